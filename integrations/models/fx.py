from django.db import models


class ExchangeRate(models.Model):
    """An ECB euro reference rate: 1 EUR = `rate` units of `currency` on `date`."""

    date = models.DateField()
    currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=20, decimal_places=6)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["currency", "date"], name="exchangerate_unique_day")]
        ordering = ["-date", "currency"]

    def __str__(self) -> str:
        return f"{self.date} EUR/{self.currency} {self.rate}"
