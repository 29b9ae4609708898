"""Push destinations (social networks, email, webhooks) behind one narrow protocol."""
