"""Byte-pair encoding of one pre-tokenized word, with the exact merge order of HF ``tokenizers``.

``tokenizers`` repeatedly merges the adjacent pair with the lowest merge rank, the leftmost one on ties
(a min-heap on ``(rank, position)``). Short words keep a list of adjacent-pair ranks and take the leftmost
minimum with C-level ``min``/``index`` (only the two pairs around a merge are looked up again); long words
use a heap. Two rank sources are supported:

* a tokenizer.json ``merges`` list: rank of ``(a, b)`` is its index;
* tiktoken ranks: a pair ``(a, b)`` merges when ``a + b`` is a token, ranked by ``(rank(a+b), rank(a),
  rank(b))``, which is exactly the merge order of the tiktoken-to-tokenizer.json conversion (and of
  tiktoken itself except for ties between different splits of the same token).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from itertools import pairwise, repeat

__all__ = ["BPE"]

_NAIVE_MAX = 64  # up to this many symbols, C-level scans of the rank list beat heap bookkeeping in CPython
_CACHE_CAPACITY = 200_000
_NO_MERGE = 1 << 126  # the rank of a pair that does not merge (above every real rank, tiktoken composites too)


class BPE:
    """A BPE model over byte-level strings; ``encode_word`` is memoised per word."""

    def __init__(
        self,
        vocab: dict[str, int],
        *,
        merges: dict[tuple[str, str], int] | None = None,
        ignore_merges: bool = False,
        unk_id: int | None = None,
    ) -> None:
        self.vocab = vocab
        self.merges = merges
        self.ignore_merges = ignore_merges
        self.unk_id = unk_id
        self._cache: dict[str, list[int]] = {}
        self.word_encoder: Callable[[str], list[int]] | None = None
        """If set, computes the ids of a word missing from the cache instead of this model's own merge loop:
        the loader's ``auto`` backend sets HF's compiled BPE model for the same file here (same ids, faster)."""
        self._pair_rank: Callable[[str, str], int | None]
        # ``(pair, default) -> rank``: for merges, ``dict.get`` itself, so the rank list is built in C.
        self._rank_or: Callable[[tuple[str, str], int], int]
        if merges is not None:
            get = merges.get
            self._pair_rank = lambda a, b: get((a, b))
            self._rank_or = get
        else:
            vget = vocab.get
            n = len(vocab) + 1

            def tiktoken_rank(a: str, b: str) -> int | None:
                r = vget(a + b)
                if r is None:
                    return None
                return (r * n + vocab[a]) * n + vocab[b]

            self._pair_rank = tiktoken_rank

            def tiktoken_rank_or(pair: tuple[str, str], default: int) -> int:
                r = tiktoken_rank(pair[0], pair[1])
                return default if r is None else r

            self._rank_or = tiktoken_rank_or

    def clear_cache(self) -> None:
        self._cache.clear()

    def encode_word(self, word: str) -> list[int]:
        """Ids of one byte-level word (already pre-tokenized and byte-mapped)."""
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        if self.word_encoder is not None:
            ids = self.word_encoder(word)
        else:
            ids = self._encode_uncached(word)
        if len(self._cache) < _CACHE_CAPACITY:
            self._cache[word] = ids
        return ids

    def _encode_uncached(self, word: str) -> list[int]:
        vocab = self.vocab
        if self.ignore_merges and word in vocab:
            return [vocab[word]]
        ids = []
        for p in self._merge(word):
            i = vocab.get(p)
            if i is not None:
                ids.append(i)
            elif self.unk_id is not None:
                ids.append(self.unk_id)
            # else: tokenizers silently drops symbols missing from the vocabulary; so do we.
        return ids

    def _merge(self, word: str) -> list[str]:
        if len(word) > _NAIVE_MAX:
            return self._merge_heap(word)
        parts = list(word)
        if len(parts) < 2:
            return parts
        get = self._rank_or
        # ranks[i] is the rank of (parts[i], parts[i + 1]); the leftmost minimum merges first.
        ranks = list(map(get, pairwise(parts), repeat(_NO_MERGE)))
        while ranks:
            best = min(ranks)
            if best == _NO_MERGE:
                break
            i = ranks.index(best)
            merged = parts[i] + parts[i + 1]
            parts[i] = merged
            del parts[i + 1], ranks[i]
            if i:
                ranks[i - 1] = get((parts[i - 1], merged), _NO_MERGE)
            if i < len(ranks):
                ranks[i] = get((merged, parts[i + 1]), _NO_MERGE)
        return parts

    def _merge_heap(self, word: str) -> list[str]:
        """Same order as :meth:`_merge` in O(n log n): a heap of ``(rank, pos)`` with stale entries.

        An entry is stale when the pair at ``pos`` changed; since symbols only grow, comparing the
        concatenation recorded at push time is enough to detect that.
        """
        rank = self._pair_rank
        syms: list[str | None] = list(word)
        n = len(syms)
        nxt = list(range(1, n + 1))
        nxt[-1] = -1
        prv = list(range(-1, n - 1))
        heap: list[tuple[int, int, str]] = []
        for i in range(n - 1):
            r = rank(word[i], word[i + 1])
            if r is not None:
                heap.append((r, i, word[i] + word[i + 1]))
        heapq.heapify(heap)
        while heap:
            _, i, merged = heapq.heappop(heap)
            left = syms[i]
            j = nxt[i]
            if left is None or j == -1:
                continue
            right = syms[j]
            assert right is not None
            if len(left) + len(right) != len(merged) or left + right != merged:
                continue
            syms[i] = merged
            syms[j] = None
            k = nxt[j]
            nxt[i] = k
            if k != -1:
                prv[k] = i
                nk = syms[k]
                assert nk is not None
                r = rank(merged, nk)
                if r is not None:
                    heapq.heappush(heap, (r, i, merged + nk))
            p = prv[i]
            if p != -1:
                ps = syms[p]
                assert ps is not None
                r = rank(ps, merged)
                if r is not None:
                    heapq.heappush(heap, (r, p, ps + merged))
        return [s for s in syms if s is not None]
