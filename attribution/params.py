"""The workspace settings that shape stored credits, remembered with the credits they shaped (the
served version's in AttributionState, a recompute's in its RecomputeRun). The default model is not
one of them: every model is stored."""

from dataclasses import dataclass


@dataclass(frozen=True)
class AttributionParams:
    lookback_days: int
    timezone: str

    @classmethod
    def of(cls, obj) -> "AttributionParams":
        """From anything that carries them: a Workspace (wanted), an AttributionState or a RecomputeRun (used)."""
        return cls(lookback_days=obj.lookback_days, timezone=obj.timezone)

    def as_fields(self) -> dict:
        return {"lookback_days": self.lookback_days, "timezone": self.timezone}

    def change_from(self, old: "AttributionParams") -> str:
        """What changed, for people: "Lookback window 30 → 60 days; time zone UTC → Europe/Berlin"."""
        parts = []
        if old.lookback_days != self.lookback_days:
            parts.append(f"Lookback window {old.lookback_days} → {self.lookback_days} days")
        if old.timezone != self.timezone:
            parts.append(f"time zone {old.timezone} → {self.timezone}")
        return "; ".join(parts).capitalize() if parts else ""
