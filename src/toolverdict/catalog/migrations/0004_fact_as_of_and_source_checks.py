"""Facts keep the editor's own date as ``as_of`` (it was never a fetch: ``retrieved`` claimed
one); the checks of cited URLs live in Source."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_published_at_stamped_on_save"),
    ]

    operations = [
        migrations.RenameField(model_name="fact", old_name="retrieved", new_name="as_of"),
        migrations.AlterField(
            model_name="fact",
            name="as_of",
            field=models.DateField(
                blank=True, help_text="The editor's own date for this fact, if any.", null=True
            ),
        ),
        migrations.CreateModel(
            name="Source",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("url", models.URLField(max_length=500, unique=True)),
                ("checked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "outcome",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("ok", "Reachable"),
                            ("http_error", "HTTP error"),
                            ("unreachable", "Unreachable"),
                            ("refused", "Refused (not a public address)"),
                            ("too_large", "Too large to read"),
                        ],
                        max_length=12,
                    ),
                ),
                ("http_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("final_url", models.URLField(blank=True, max_length=2000)),
                ("content_sha256", models.CharField(blank=True, max_length=64)),
                ("detail", models.CharField(blank=True, max_length=300)),
                ("last_ok_at", models.DateTimeField(blank=True, null=True)),
                (
                    "failures",
                    models.PositiveSmallIntegerField(
                        default=0, help_text="Checks in a row that did not reach the page."
                    ),
                ),
                ("claimed_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["url"],
                "indexes": [models.Index(fields=["checked_at"], name="catalog_source_checked_idx")],
            },
        ),
    ]
