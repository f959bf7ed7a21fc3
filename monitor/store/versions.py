"""Model versions and baselines in the store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.errors import ConflictError, NotFoundError
from monitor.spec.model_version import ModelVersion, parse_model_version
from monitor.store.base import utcnow
from monitor.store.session import StoreCore
from monitor.store.tables_runs import BaselineRow, ModelVersionRow


def _differing_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


class ModelVersionStore(StoreCore):
    """Register model versions and keep their baselines (with history)."""

    def _version_row(self, session: Session, name: str, version: str) -> ModelVersionRow:
        row = session.scalar(
            select(ModelVersionRow).where(
                ModelVersionRow.name == name, ModelVersionRow.version == version
            )
        )
        if row is None:
            known = [
                f"{n}:{v}"
                for n, v in session.execute(
                    select(ModelVersionRow.name, ModelVersionRow.version).order_by(
                        ModelVersionRow.name, ModelVersionRow.version
                    )
                )
            ]
            raise NotFoundError(
                f"model version {name}:{version} is not registered; known versions: "
                f"{known or 'none'}; register it with 'raiwatch model register -f model.yaml'"
            )
        return row

    def register_model_version(self, mv: ModelVersion) -> None:
        """Register ``mv``; registering the same spec again is a no-op.

        Raises
        ------
        ConflictError
            When ``(name, version)`` exists with a different spec; the message
            names the differing fields.
        """
        spec = mv.model_dump(mode="json")
        with self.session() as session:
            row = session.scalar(
                select(ModelVersionRow).where(
                    ModelVersionRow.name == mv.name, ModelVersionRow.version == mv.version
                )
            )
            if row is None:
                session.add(ModelVersionRow(name=mv.name, version=mv.version, spec=spec))
                return
            if row.spec != spec:
                fields = _differing_fields(row.spec, spec)
                raise ConflictError(
                    f"model version {mv.name}:{mv.version} is already registered with a "
                    f"different spec (differing fields: {fields}); a version is immutable, "
                    "so register the change under a new version"
                )

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        """The registered :class:`ModelVersion` (``NotFoundError`` lists known versions)."""
        with self.session() as session:
            spec = self._version_row(session, name, version).spec
        return parse_model_version(spec, source=f"store:{name}:{version}")

    def list_model_versions(self) -> list[ModelVersion]:
        """Every registered model version, ordered by name then version."""
        with self.session() as session:
            specs = session.scalars(
                select(ModelVersionRow.spec).order_by(ModelVersionRow.name, ModelVersionRow.version)
            ).all()
        return [parse_model_version(s, source="store") for s in specs]

    def save_baseline(
        self, name: str, version: str, document: dict[str, Any], sample_parquet: bytes
    ) -> int:
        """Store a new active baseline for a version; older baselines are kept inactive.

        Returns
        -------
        int
            The id of the new baseline.
        """
        with self.session() as session:
            mv = self._version_row(session, name, version)
            session.execute(
                update(BaselineRow)
                .where(BaselineRow.model_version_id == mv.id, BaselineRow.active.is_(True))
                .values(active=False)
            )
            row = BaselineRow(
                model_version_id=mv.id,
                document=document,
                sample=sample_parquet,
                active=True,
                created_at=utcnow(),
            )
            session.add(row)
            session.flush()
            return row.id

    def load_baseline(self, name: str, version: str) -> tuple[dict[str, Any], bytes]:
        """The active baseline's document and Parquet sample."""
        with self.session() as session:
            mv = self._version_row(session, name, version)
            row = session.scalar(
                select(BaselineRow).where(
                    BaselineRow.model_version_id == mv.id, BaselineRow.active.is_(True)
                )
            )
            if row is None:
                raise NotFoundError(
                    f"model version {name}:{version} has no baseline; create one with "
                    f"'raiwatch baseline create --model {name} --version {version} "
                    "--data reference.parquet'"
                )
            return row.document, row.sample

    def baseline_history(self, name: str, version: str) -> list[tuple[int, bool, str]]:
        """``(id, active, created_at ISO)`` of every baseline of a version, oldest first."""
        with self.session() as session:
            mv = self._version_row(session, name, version)
            rows = session.execute(
                select(BaselineRow.id, BaselineRow.active, BaselineRow.created_at)
                .where(BaselineRow.model_version_id == mv.id)
                .order_by(BaselineRow.id)
            ).all()
        return [(i, a, c.isoformat()) for i, a, c in rows]
