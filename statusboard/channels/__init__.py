"""Push destinations: one module per network or transport behind one narrow protocol."""
