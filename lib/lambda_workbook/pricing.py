"""The pricing context: the price books a computation uses, chosen once at its edge and handed in.

A :class:`Pricing` holds one :class:`~lambda_workbook.prices.PriceBook` per region (and the date they were
asked for). It is built where a computation starts — the command line, ``params.open``, the top of
``review.run`` — by :func:`context` (named regions), :func:`for_snapshot` (every region of a snapshot's
``functions`` table) or :meth:`Pricing.of` (one book), and passed down as ``pricing=``. A model never loads
a book itself: it asks :func:`resolve`, the one place that falls back to the bundled book, and only when
its caller gave neither a book nor a context (``billing.lambda_cost(1e6, 120, 512)`` from a notebook cell).

The architecture is not part of the context. One book prices both architectures (``lambda.duration.x86_64``
and ``lambda.duration.arm64`` sit side by side), and the models price the same function on both to compare
them (the arm64 candidate, ``memory.recommend`` on the other architecture), so ``arch`` stays each model's
own argument; binding it here would force two contexts per function for no gain.

All names here are also reachable as ``prices.Pricing``, ``prices.context``, ``prices.for_snapshot`` and
``prices.resolve``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import prices

#: the region a model prices in when its caller names none (the models' long-standing default)
DEFAULT_REGION = "us-east-1"


def book_digest(book: prices.PriceBook) -> str:
    """A digest of a book's items: two books with the same items price everything alike."""
    cached = book.__dict__.get("_digest")
    if cached is None:
        cached = hashlib.sha256(json.dumps(book.items, sort_keys=True, default=str).encode()).hexdigest()[:32]
        book.__dict__["_digest"] = cached   # a frozen dataclass: kept beside its fields, not as one
    return cached


@dataclass(frozen=True)
class Pricing:
    """The price books of one computation, by region; ``as_of`` is the date they were asked for (None: newest).

    ``missing`` names the regions asked for that have no book, with the reason (:func:`for_snapshot` keeps
    going without them so the regions that are priced still get their figures; asking for one of them then
    raises :class:`~lambda_workbook.prices.PricesNotFound`).
    """

    books: Mapping[str, prices.PriceBook]
    as_of: str | None = None
    missing: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        for region, book in self.books.items():
            if not isinstance(book, prices.PriceBook):
                raise TypeError(f"Pricing.books[{region!r}] must be a prices.PriceBook, got {type(book).__name__}")
            if book.region != region:
                raise ValueError(f"Pricing.books[{region!r}] holds the {book.region} price book")
        object.__setattr__(self, "books", MappingProxyType(dict(self.books)))
        object.__setattr__(self, "missing", MappingProxyType(dict(self.missing)))

    def __reduce__(self):   # the mapping proxies do not pickle; their dicts do
        return (Pricing, (dict(self.books), self.as_of, dict(self.missing)))

    @classmethod
    def of(cls, *books: prices.PriceBook) -> Pricing:
        """A context holding just these books (one per region)."""
        regions = [b.region for b in books]
        if len(set(regions)) != len(regions):
            raise ValueError(f"Pricing.of: one book per region, got regions {regions}")
        return cls({b.region: b for b in books})

    @property
    def regions(self) -> list[str]:
        return sorted(self.books)

    def has(self, region: str) -> bool:
        return region in self.books

    def book(self, region: str) -> prices.PriceBook:
        """The book for ``region``, or one clear error naming the region and the regions this context holds."""
        try:
            return self.books[region]
        except KeyError:
            why = f" ({self.missing[region]})" if region in self.missing else ""
            raise prices.PricesNotFound(
                f"no price book for region {region!r} in this pricing context (it holds: "
                f"{', '.join(self.regions) or 'none'}){why}") from None

    def with_book(self, book: prices.PriceBook) -> Pricing:
        """This context with ``book`` for its region (replacing the one held)."""
        missing = {k: v for k, v in self.missing.items() if k != book.region}
        return Pricing({**self.books, book.region: book}, self.as_of, missing)

    def key(self, regions: Iterable[str]) -> tuple:
        """What results computed for ``regions`` depend on: each region's date, file and item digest (the
        memo key of :func:`lambda_workbook.analysis.per_snapshot`); a region without a book is ``(region, None)``."""
        out = []
        for r in sorted(set(regions)):
            b = self.books.get(r)
            out.append((r, None) if b is None else (r, b.as_of, str(b.path or ""), book_digest(b)))
        return tuple(out)


def context(regions: Iterable[str] | str, *, as_of: str | None = None, root: str | Path | None = None,
            strict: bool = True) -> Pricing:
    """The newest book (on or before ``as_of``) of each region. A region without one raises
    :class:`~lambda_workbook.prices.PricesNotFound`, or with ``strict=False`` is kept in ``missing``."""
    names = [regions] if isinstance(regions, str) else list(dict.fromkeys(regions))
    books, missing = {}, {}
    for region in names:
        try:
            books[region] = prices.load(region, as_of=as_of, root=root)
        except prices.PricesNotFound as exc:
            if strict:
                raise
            missing[region] = str(exc)
    return Pricing(books, as_of, missing)


def for_snapshot(snapshot: Any, *, as_of: str | None = None, root: str | Path | None = None,
                 book: prices.PriceBook | None = None, pricing: Pricing | None = None) -> Pricing:
    """The context of a whole-snapshot computation: ``pricing`` itself when given, else the books of every
    region of the snapshot's ``functions`` table (regions without one are kept in ``missing``). ``book``, the
    older keyword of the snapshot-wide functions, replaces the book of its own region."""
    if pricing is not None and not isinstance(pricing, Pricing):
        raise TypeError(f"pricing must be a prices.Pricing or None, got {type(pricing).__name__}")
    if pricing is None:
        regions = list(snapshot.regions)
        if book is not None:
            regions = [r for r in regions if r != book.region]
        pricing = context(regions, as_of=as_of, root=root, strict=False)
    return pricing if book is None else pricing.with_book(book)


def resolve(region: str | None = None, *, book: prices.PriceBook | None = None,
            pricing: Pricing | None = None) -> prices.PriceBook:
    """The book a model prices with: ``book`` when given, else ``pricing``'s book for ``region``, else the
    bundled newest book of ``region`` (default us-east-1) — the only fallback to loading a book in a model.

    ``region`` and ``book`` that disagree raise one line rather than one of them silently winning; ``pricing``
    holding several regions needs ``region``.
    """
    if book is not None:
        if not isinstance(book, prices.PriceBook):
            raise TypeError(f"book must be a prices.PriceBook or None, got {type(book).__name__}")
        if region is not None and region != book.region:
            raise ValueError(f"book is priced for {book.region}, but region={region!r}: pass one, or make them agree")
        if pricing is not None and pricing.books.get(book.region) is not book:
            raise ValueError(f"book ({book.region}, {book.as_of}) is not the pricing context's book for "
                             f"{book.region}: pass one of book= and pricing=")
        return book
    if pricing is not None:
        if not isinstance(pricing, Pricing):
            raise TypeError(f"pricing must be a prices.Pricing or None, got {type(pricing).__name__}")
        if region is None:
            if len(pricing.books) == 1:
                return next(iter(pricing.books.values()))
            raise ValueError(f"region is needed: the pricing context holds {', '.join(pricing.regions) or 'no book'}")
        return pricing.book(region)
    return prices.load(DEFAULT_REGION if region is None else region)
