"""Real-name activation of the e-credential (实名认证 + 激活).

DOMAIN.md: "Activation = real-name verification".
"""
