"""Optimal one-to-one assignment (the Hungarian method), used to pair patients."""

from __future__ import annotations

from dataclasses import dataclass


def assign(weights: list[list[int]]) -> list[int | None]:
    """Hungarian assignment: the column of each row maximising the total weight.

    ``min(rows, columns)`` pairs are made; surplus rows get ``None``.
    """
    rows, columns = len(weights), len(weights[0]) if weights else 0
    if rows > columns:
        transposed = assign([list(column) for column in zip(*weights, strict=True)])
        row_of = {row: column for column, row in enumerate(transposed) if row is not None}
        return [row_of.get(row) for row in range(rows)]
    state = _Potentials(u=[0.0] * (rows + 1), v=[0.0] * (columns + 1), owner=[0] * (columns + 1))
    for row in range(1, rows + 1):
        state.add_row(weights, row)
    result: list[int | None] = [None] * rows
    for column, owner in enumerate(state.owner):
        if column and owner:
            result[owner - 1] = column - 1
    return result


@dataclass
class _Potentials:
    """Hungarian-method state, 1-based with a dummy column 0 (after e-maxx.ru).

    Minimises the cost ``-weight``; ``owner[j]`` is the row holding column ``j``.
    """

    u: list[float]
    v: list[float]
    owner: list[int]

    def add_row(self, weights: list[list[int]], row: int) -> None:
        """Assign ``row`` along a shortest augmenting path, updating the potentials."""
        columns = len(self.v) - 1
        way = [0] * (columns + 1)
        slack, used = [float("inf")] * (columns + 1), [False] * (columns + 1)
        self.owner[0], free = row, 0
        while self.owner[free] != 0:
            used[free], current, delta, nearest = True, self.owner[free], float("inf"), 0
            for j in range(1, columns + 1):
                if used[j]:
                    continue
                cost = -weights[current - 1][j - 1] - self.u[current] - self.v[j]
                if cost < slack[j]:
                    slack[j], way[j] = cost, free
                if slack[j] < delta:
                    delta, nearest = slack[j], j
            for j in range(columns + 1):
                if used[j]:
                    self.u[self.owner[j]] += delta
                    self.v[j] -= delta
                else:
                    slack[j] -= delta
            free = nearest
        while free:
            self.owner[free] = self.owner[way[free]]
            free = way[free]
