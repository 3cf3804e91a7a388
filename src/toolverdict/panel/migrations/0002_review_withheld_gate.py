from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("panel", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="review",
            name="withheld_gate",
            field=models.CharField(
                blank=True,
                choices=[
                    ("grounding", "Failed the grounding check"),
                    ("non_answers", "Did not answer its questions"),
                    ("unreadable", "Not readable text"),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="review",
            name="status",
            field=models.CharField(
                choices=[
                    ("published", "Published"),
                    ("withheld", "Withheld"),
                    ("failed", "Failed"),
                ],
                max_length=10,
            ),
        ),
    ]
