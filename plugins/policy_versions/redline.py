"""A readable word-level redline between two rendered policy versions.

Blocks (headings, paragraphs, lists, tables) are matched first; inside a changed
block the words are compared, so a redline reads like the policy itself. A list is
compared item by item and a table row by row (then cell by cell), so a row added to
a table is the only one marked. Long runs of unchanged blocks fold into <details>,
which opens without JavaScript.
"""

from __future__ import annotations

import html
import re
from difflib import SequenceMatcher

from bs4 import BeautifulSoup, NavigableString, Tag

CONTEXT = 1  # unchanged blocks shown on each side of a change
# Blocks made of blocks, compared child by child: lists, the table's scrolling wrapper,
# tables and their parts.
CONTAINERS = {"ul", "ol", "div", "table", "thead", "tbody", "tfoot", "tr"}
# Where <ins>/<del> may not stand directly: they go round each cell's content.
ROWS = {"thead", "tbody", "tfoot", "tr"}
CELLS = {"li", "td", "th"}
WORDS = re.compile(r"\s+|[^\s]+")


def redline(old_html: str, new_html: str) -> str:
    """HTML of the new version with insertions in <ins> and deletions in <del>."""
    return "\n".join(diff_blocks(_blocks(old_html), _blocks(new_html), fold=True))


def _blocks(fragment: str | Tag) -> list[Tag]:
    root = BeautifulSoup(fragment, "html.parser") if isinstance(fragment, str) else fragment
    return [child for child in root.children if isinstance(child, Tag)]


def diff_blocks(old: list[Tag], new: list[Tag], fold: bool = False) -> list[str]:
    matcher = SequenceMatcher(None, [str(b) for b in old], [str(b) for b in new], autojunk=False)
    opcodes = matcher.get_opcodes()
    out: list[str] = []
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            same = [str(b) for b in new[j1:j2]]
            if fold:
                out += _fold(same, first=index == 0, last=index == len(opcodes) - 1)
            else:
                out += same
            continue
        pairs = list(zip(old[i1:i2], new[j1:j2], strict=False)) if op == "replace" else []
        for before, after in pairs:
            if before.name == after.name:
                out.append(_diff_pair(before, after))
            else:
                out += [_mark(before, "del"), _mark(after, "ins")]
        out += [_mark(b, "del") for b in old[i1 + len(pairs) : i2]]
        out += [_mark(b, "ins") for b in new[j1 + len(pairs) : j2]]
    return out


def _fold(blocks: list[str], first: bool, last: bool) -> list[str]:
    """Keep CONTEXT blocks next to each change; fold the rest into <details>."""
    head = [] if first else blocks[:CONTEXT]
    tail = [] if last else blocks[len(blocks) - CONTEXT :]
    hidden = blocks[len(head) : len(blocks) - len(tail)]
    if len(hidden) <= 1:
        return blocks
    summary = f"{len(hidden)} unchanged paragraphs"
    folded = f'<details class="unchanged"><summary>{summary}</summary>\n{"".join(hidden)}</details>'
    return [*head, folded, *tail]


def _open_tag(block: Tag) -> str:
    attrs = "".join(
        f' {name}="{html.escape(" ".join(v) if isinstance(v, list) else v)}"'
        for name, v in block.attrs.items()
    )
    return f"<{block.name}{attrs}>"


def _mark(block: Tag, kind: str) -> str:
    if block.name in ROWS:
        inner = "".join(_mark(child, kind) for child in _blocks(block))
        return f"{_open_tag(block)}{inner}</{block.name}>"
    if block.name in CELLS:
        return f"{_open_tag(block)}<{kind}>{block.decode_contents()}</{kind}></{block.name}>"
    return f'<{kind} class="block">{block}</{kind}>'


def _diff_pair(old: Tag, new: Tag) -> str:
    if new.name in CONTAINERS and not _has_text(new) and not _has_text(old):
        inner = "\n".join(diff_blocks(_blocks(old), _blocks(new)))
    else:
        inner = _diff_words(_tokens(old), _tokens(new))
    return f"{_open_tag(new)}{inner}</{new.name}>"


def _has_text(block: Tag) -> bool:
    """Text of its own, not in a child element (a <div> may hold words)."""
    return any(isinstance(c, NavigableString) and c.strip() for c in block.children)


def _tokens(block: Tag) -> list[str]:
    """Words and spaces as escaped text; inline elements as whole tokens."""
    tokens: list[str] = []
    for child in block.children:
        if isinstance(child, NavigableString):
            tokens += [html.escape(word, quote=False) for word in WORDS.findall(str(child))]
        else:
            tokens.append(str(child))
    return tokens


def _diff_words(old: list[str], new: list[str]) -> str:
    out: list[str] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            out += new[j1:j2]
            continue
        if i2 > i1:
            out.append(f"<del>{''.join(old[i1:i2])}</del>")
        if j2 > j1:
            out.append(f"<ins>{''.join(new[j1:j2])}</ins>")
    return "".join(out)
