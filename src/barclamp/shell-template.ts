/**
 * Where a value may stand in a template that becomes shell code (commands, guards, checks, *.sh.ejs files).
 * There `<%= value %>` is shell-quoted by the renderer, so it must stand where a quoted word means what the
 * author meant: outside any quotes, command substitution or here-document body. Inside them the quoting would
 * be wrong (single quotes inside single quotes end them), so such a template is refused before anything runs,
 * as is raw output (`<%- %>`), which would bypass the quoting. Values are quoted by construction: an author
 * cannot forget it, only be told where it cannot work.
 */
export interface ShellTemplateProblem {
  line: number;
  problem: string;
}

type Context = 'word' | 'single' | 'double' | 'backtick' | 'substitution';

export function shellTemplateProblems(text: string): ShellTemplateProblem[] {
  const problems: ShellTemplateProblem[] = [];
  const stack: Context[] = ['word'];
  let line = 1;
  let heredoc: { delimiter: string; stripTabs: boolean; pending: boolean } | undefined;
  let lineStart = true;
  let i = 0;
  const top = () => stack[stack.length - 1]!;
  while (i < text.length) {
    if (text.startsWith('<%', i)) {
      const end = text.indexOf('%>', i + 2);
      const tag = text.slice(i, end < 0 ? text.length : end + 2);
      const kind = tag[2];
      if (kind === '=' || kind === '-') {
        const where =
          heredoc && !heredoc.pending
            ? 'inside a here-document'
            : top() === 'single'
              ? "inside '…'"
              : top() === 'double'
                ? 'inside "…"'
                : top() === 'backtick'
                  ? 'inside `…`'
                  : undefined;
        if (kind === '-' && !/^<%-\s*include\(/.test(tag))
          problems.push({
            line,
            problem: 'raw output (<%- %>) in a shell context bypasses the quoting of values: use <%= %>',
          });
        else if (where)
          problems.push({
            line,
            problem: `<%= %> ${where}: the value is shell-quoted already, so it must stand outside quotes — write it as a word of its own (or assign it to a variable first)`,
          });
      }
      line += (tag.match(/\n/g) ?? []).length;
      i += tag.length;
      lineStart = false;
      continue;
    }
    const c = text[i]!;
    if (c === '\n') {
      line++;
      lineStart = true;
      i++;
      if (heredoc?.pending) heredoc.pending = false;
      else if (heredoc) {
        const next = text.slice(i, text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i));
        if ((heredoc.stripTabs ? next.replace(/^\t+/, '') : next).trim() === heredoc.delimiter) heredoc = undefined;
      }
      continue;
    }
    if (heredoc && !heredoc.pending) {
      i++;
      continue;
    }
    const context = top();
    if (context === 'single') {
      if (c === "'") stack.pop();
      i++;
      continue;
    }
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (context === 'double') {
      if (c === '"') stack.pop();
      else if (text.startsWith('$(', i)) stack.push('substitution'), i++;
      else if (c === '`') stack.push('backtick');
      i++;
      continue;
    }
    if (c === '`' && context === 'backtick') {
      stack.pop();
      i++;
      continue;
    }
    if (c === ')' && context === 'substitution') {
      stack.pop();
      i++;
      continue;
    }
    if (c === '#' && (lineStart || /\s/.test(text[i - 1] ?? ' '))) {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? text.length : eol;
      continue;
    }
    if (c === "'") stack.push('single');
    else if (c === '"') stack.push('double');
    else if (c === '`') stack.push('backtick');
    else if (text.startsWith('$(', i)) stack.push('substitution'), i++;
    else if (text.startsWith('<<', i) && text[i + 2] !== '<') {
      const m = /^<<(-?)\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2/.exec(text.slice(i));
      if (m) {
        heredoc = { delimiter: m[3]!, stripTabs: m[1] === '-', pending: true };
        i += m[0].length;
        continue;
      }
    }
    if (!/\s/.test(c)) lineStart = false;
    i++;
  }
  return problems;
}
