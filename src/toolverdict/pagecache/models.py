"""One row per cache scope: the time (ns) of the last committed write that changed it."""

from django.db import models


class CacheVersion(models.Model):
    scope = models.CharField(max_length=200, primary_key=True)
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "page cache version"

    def __str__(self) -> str:
        return f"{self.scope} @ {self.version}"
