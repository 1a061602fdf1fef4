/**
 * Escaping for XML text and attributes (JUnit, HTML). Characters XML 1.0 forbids — terminal control codes
 * in a captured stderr — are dropped rather than breaking the whole document.
 */
export function escapeMarkup(text: string): string {
  return text
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
