"""The e-credential: activation's credential row, offline kits, QR codes, scanning (issue 4)."""
