"""The 13 TSGL encoder variants (paper Table IV and Appendix E) as data.

A variant is the list of reconstruction branches applied at every encoder layer (see
:mod:`inpaint.nn.reconstruction`). Names are the paper's (arXiv version) with ASCII arrows. Reading of a name
``A(B)->C(D)``: source A drives normalisation C and source B drives normalisation D, where the sources are
Global = the structure encoder's feature, Local = the local residual structure, Texture = the texture map
itself, and a leading "2" means that branch is applied twice (two chained stages). Ambiguous rows and the
reading chosen are documented in docs/model.md. Table IV's row order, groups and published values are paper facts
and live in :mod:`inpaint.report.paper.table4`.

A variant may also reconstruct the *structure* map (Table I(b), the inverse direction): ``structure_branches`` are
applied to the structure encoder's feature F_k^S at every layer, modulated by the texture map F_k^T (source
``texture``); the reconstructed F̃_k^S then feeds the next structure layer, guides the texture branches (their
``structure`` source) and, at the last layer, D_S. Table I's four models and the reading chosen: docs/model.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from inpaint.naming import slug as slugify
from inpaint.nn.reconstruction import Branch


@dataclass(frozen=True)
class Variant:
    """A named encoder variant: its reconstruction branches and whether a structure encoder is needed."""

    name: str
    branches: tuple[Branch, ...]
    description: str = ""
    #: branches reconstructing the structure map F_k^S from the texture map F_k^T (source ``texture`` only)
    structure_branches: tuple[Branch, ...] = ()

    def __post_init__(self) -> None:
        wrong = [b for b in self.structure_branches if b.source != "texture"]
        if wrong:
            raise ValueError(f"variant {self.name!r}: a structure branch is modulated by the texture map (source "
                             f"'texture'), got {wrong}")

    @property
    def slug(self) -> str:
        return slugify(self.name)

    @property
    def uses_structure(self) -> bool:
        """True when a branch reads the structure encoder's features or reconstructs them (so it, and D_S, are
        built)."""
        return bool(self.structure_branches) or any(b.source == "structure" for b in self.branches)


def G(source: str, times: int = 1) -> Branch:
    """A branch on the globally normalised texture."""
    return Branch("global", source, times)  # type: ignore[arg-type]


def L(source: str, times: int = 1) -> Branch:
    """A branch on the locally normalised texture."""
    return Branch("local", source, times)  # type: ignore[arg-type]


_DEFS: list[tuple[str, tuple[Branch, ...], str]] = [
    ("Baseline", (), "texture only: no reconstruction, no structure encoder, no D_S"),
    ("Global->Global", (G("structure"),), "global structure on the globally normalised texture"),
    ("Global->Local", (L("structure"),), "global structure on the locally normalised texture"),
    ("Local->Global", (G("residual"),), "local residual structure on the globally normalised texture"),
    ("Local->Local", (L("residual"),), "local residual structure on the locally normalised texture"),
    ("Texture->Global", (G("texture"),), "the texture map modulating its own global normalisation"),
    ("Texture->Local", (L("texture"),), "the texture map modulating its own local normalisation"),
    ("2Global(Local)->Local(Global)", (L("structure", 2), G("residual")),
     "swapped pairing: global structure twice on the local norm, residual on the global norm"),
    ("2Global(Local)->Local(Local)", (L("structure", 2), L("residual")),
     "both structures on the local norm"),
    ("Global(Local)->Global(Local)", (G("structure"), L("residual")),
     "ours with the global guidance applied once (the typeset PDF's reading of Table IV row 10)"),
    ("2Global(Texture)->Global(Local)", (G("structure", 2), L("texture")),
     "the local branch driven by the texture map instead of the residual"),
    ("2Global(Local)->Global(Local)", (G("structure", 2), L("residual")),
     "ours: global structure twice on the global norm + local residual on the local norm"),
    ("Global(2Local)->Global(Local)", (G("structure"), L("residual", 2)),
     "local residual applied twice (Appendix E, Fig. 21; the arXiv label of Table IV row 10)"),
]

#: Variants that also reconstruct the structure map: (name, texture branches, structure branches, description).
_STRUCTURE_DEFS: list[tuple[str, tuple[Branch, ...], tuple[Branch, ...], str]] = [
    ("Global->Global+Texture->Structure", (G("structure"),), (G("texture"),),
     "Table I(b) 'w. texture feature map': the structure map, globally normalised and modulated by the texture "
     "map, then reconstructs the texture as in Global->Global"),
]

VARIANTS: dict[str, Variant] = {
    **{name: Variant(name, branches, text) for name, branches, text in _DEFS},
    **{name: Variant(name, branches, text, structure) for name, branches, structure, text in _STRUCTURE_DEFS},
}
DEFAULT_VARIANT = "2Global(Local)->Global(Local)"

#: Variants defined here but not a Table IV row under the arXiv labels: the typeset PDF's reading of row 10 (it labels
#: it "Global+Local → Global+Local"; train it to compare both readings of that row) and Table I(b)'s structure
#: reconstruction from texture (docs/model.md).
EXTRA_VARIANTS: tuple[str, ...] = ("Global(Local)->Global(Local)", "Global->Global+Texture->Structure")


_BY_SLUG = {slugify(name): name for name in VARIANTS}


def get_variant(name: str) -> Variant:
    """Look a variant up by its paper name (ASCII ``->`` or the Unicode arrow) or its slug."""
    key = name.replace("→", "->").replace(" ", "")
    if key in VARIANTS:
        return VARIANTS[key]
    if name in _BY_SLUG:
        return VARIANTS[_BY_SLUG[name]]
    raise ValueError(f"unknown TSGL variant {name!r}; choose one of {list(VARIANTS)} (or their slugs)")
