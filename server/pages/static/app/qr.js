// Draws a QR text onto a canvas with the vendored Nayuki encoder: alphanumeric mode (EC1 texts
// use only Base45 characters), error correction M kept as is (no boost: a denser symbol scans
// worse on cheap scanners), a 4-module quiet zone on a white background, whole pixels per module.
import qrcodegen from "/vendor/qrcodegen/qrcodegen.js";

const { QrCode, QrSegment } = qrcodegen;
const QUIET = 4;

export function drawQr(canvas, text, maxPixels) {
  const segments = QrSegment.isAlphanumeric(text)
    ? [QrSegment.makeAlphanumeric(text)]
    : QrSegment.makeSegments(text);
  const qr = QrCode.encodeSegments(segments, QrCode.Ecc.MEDIUM, 1, 40, -1, false);
  const modules = qr.size + 2 * QUIET;
  const scale = Math.max(2, Math.floor(maxPixels / modules));
  canvas.width = canvas.height = modules * scale;
  canvas.style.width = canvas.style.height = `${modules * scale}px`;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#000000";
  for (let y = 0; y < qr.size; y++) {
    for (let x = 0; x < qr.size; x++) {
      if (qr.getModule(x, y)) ctx.fillRect((x + QUIET) * scale, (y + QUIET) * scale, scale, scale);
    }
  }
  return qr.version;
}
