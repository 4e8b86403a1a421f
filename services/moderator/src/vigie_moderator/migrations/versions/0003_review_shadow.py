"""review shadow decision: what the shadow policy would have done, shown beside a held comment

Revision ID: f5285623f6e8
Revises: 76b80b0fc8b4
Create Date: 2026-12-02 14:08:58.317112
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f5285623f6e8"
down_revision: str | None = "76b80b0fc8b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("moderator_reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shadow", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("moderator_reviews", schema=None) as batch_op:
        batch_op.drop_column("shadow")
