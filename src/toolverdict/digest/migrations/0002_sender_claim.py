"""The sender's lease (owner, until) gives way to its claim on the issue: the task that
sends it, whose worker's heartbeat says whether it lives (digest/sending.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("digest", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(model_name="issue", name="lease_owner"),
        migrations.RemoveField(model_name="issue", name="lease_until"),
        migrations.AddField(
            model_name="issue",
            name="sender",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="issue",
            name="sending_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
