"""Each day's run records who runs it (its task's id), so that only the worker's heartbeat
decides whether it may be taken over (ingest/pipeline.py: claim_run)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0003_pricing_hint"),
    ]

    operations = [
        migrations.AddField(
            model_name="pipelinerun",
            name="runner",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
