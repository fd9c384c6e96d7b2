"""Attribution models, split by topic: the pixel's data, channel rules, credits and rollups."""
