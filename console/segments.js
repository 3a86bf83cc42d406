// How many SMS segments a text costs: the same rules as src/smsdesk/sms_segments.py (a browser
// test checks the two agree). GSM-7: 160 in one segment, 153 per part; extension characters
// count two. Anything else makes the whole text UCS-2: 70 UTF-16 units, 67 per part.
"use strict";
const GSM7_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
);
const GSM7_EXTENSION = new Set("\f^{}\\[~]|€");

function countSegments(text) {
  const chars = Array.from(text);
  const gsm = chars.every((ch) => GSM7_BASIC.has(ch) || GSM7_EXTENSION.has(ch));
  let units, single, multi;
  if (gsm) {
    units = chars.reduce((n, ch) => n + (GSM7_EXTENSION.has(ch) ? 2 : 1), 0);
    single = 160; multi = 153;
  } else {
    units = text.length; // JavaScript strings are UTF-16 code units
    single = 70; multi = 67;
  }
  const segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / multi);
  return { encoding: gsm ? "GSM-7" : "UCS-2", units, segments };
}
