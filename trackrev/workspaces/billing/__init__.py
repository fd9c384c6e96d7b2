"""TrackRev's own billing: Pro bought through the operator's Stripe account (Checkout, the Billing
Portal) and set and unset by that account's subscription webhooks. Not the customers' processor
connections (integrations/). Without BILLING_STRIPE_API_KEY none of it is offered: staff set plans."""
