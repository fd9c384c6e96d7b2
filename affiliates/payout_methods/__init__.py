"""The HTTP clients that affiliate payouts use: pure modules, no models; the payout service calls them."""
