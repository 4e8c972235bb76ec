"""`scs-deploy verify`: where a region stands on the SCS-compatible IaaS certificate, test id by
test id, checked through the APIs as the standards' texts describe."""
