"""Which agreement policy decides a clip: its project's policy file when the project has one,
else the settings' file (else the built-in defaults). Agreement, gold scoring and dispute
resolution all look a clip's policy up here, so a project's thresholds and escalation rule
apply everywhere its clips are judged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdscribe.errors import InvalidInput
from crowdscribe.storage.models import Project
from review.agreement import AgreementPolicy, load_policy


@dataclass(frozen=True)
class PolicyBook:
    """The default policy and each project's own, by project name."""

    default: AgreementPolicy = field(default_factory=AgreementPolicy)
    by_project: Mapping[str, AgreementPolicy] = field(default_factory=dict)

    def for_project(self, project: str) -> AgreementPolicy:
        """The policy that decides the clips of ``project``."""
        return self.by_project.get(project, self.default)


def policy_book(session: Session, default_file: Path | None) -> PolicyBook:
    """Every project's policy, each file read once; a file that no longer loads is refused with
    the project it belongs to (it was checked when the project was created or edited)."""
    by_project: dict[str, AgreementPolicy] = {}
    rows = session.execute(
        select(Project.name, Project.policy_file).where(Project.policy_file.is_not(None))
    )
    for name, policy_file in rows:
        try:
            by_project[name] = load_policy(Path(policy_file))
        except InvalidInput as error:
            raise InvalidInput(
                f"project {name}'s agreement policy: {error}; fix the file or "
                f"`crowdscribe projects edit {name} --policy-file FILE`"
            ) from None
    return PolicyBook(load_policy(default_file), by_project)


def check_policy_file(path: Path) -> AgreementPolicy:
    """The policy in ``path`` if the file exists and every value in it is known; a project's
    policy file is checked with this before it is stored."""
    if not Path(path).is_file():
        raise InvalidInput(f"agreement policy {path} does not exist")
    return load_policy(Path(path))
