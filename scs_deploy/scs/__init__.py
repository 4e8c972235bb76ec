"""The Sovereign Cloud Stack standards as scs-deploy applies them."""
