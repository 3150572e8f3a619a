"""The HIS interface's records and use cases (issue 12): gateway keys, the msgid log, sign-ins,
visits, fee lines and HIS settlements. The wire format is server/his; docs/his-interface.md.
"""
