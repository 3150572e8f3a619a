"""Personal accounts (个人账户): payment passwords here; balances and the ledger in issue 5."""
