"""Family mutual aid (家庭共济): filings, the order of sources, who may draw.

DOMAIN.md: "Family mutual aid (家庭共济)".
"""
