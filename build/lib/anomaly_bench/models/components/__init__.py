"""Networks, losses and scores shared by every method: no model defines its own copy."""
