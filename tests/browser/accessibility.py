"""What the elder mode promises, measured in the page: WCAG AA contrast and 44 px targets.

Contrast is computed as WCAG 2.1 defines it (relative luminance of the text colour and of the
first opaque background behind it): 4.5:1 for text, 3:1 for large text (24 px, or 18.66 px bold);
placeholders count as text.
"""
from __future__ import annotations

from playwright.sync_api import Page

_MEASURE = """() => {
  const parse = c => { const m = c && c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(parseFloat); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = ({r, g, b}) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const ratio = (fg, bg) => { const a = lum(fg), b = lum(bg); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  const visible = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const low = [], small = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el)) continue;
    const st = getComputedStyle(el);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight) >= 700;
    const need = (size >= 24 || (size >= 18.66 && bold)) ? 3 : 4.5;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own) { const r = ratio(parse(st.color), background(el));
      if (r < need) low.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 16)}" ${r.toFixed(2)}`); }
    if (el.placeholder) { const r = ratio(parse(getComputedStyle(el, '::placeholder').color), background(el));
      if (r < need) low.push(`placeholder of #${el.id} ${r.toFixed(2)}`); }
    if (el.matches('a, button, .weui-cell, input[type=submit]') && el.getBoundingClientRect().height < 44)
      small.push(`${el.tagName}#${el.id}.${el.className} ${el.getBoundingClientRect().height}px`);
  }
  return {low, small};
}"""


def elder_problems(page: Page) -> dict:
    """Text below AA contrast and targets below 44 px on the page as shown."""
    return page.evaluate(_MEASURE)
