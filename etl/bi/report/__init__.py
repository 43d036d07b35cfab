"""`gim-etl report`: one self-contained HTML file over the mart (inline SVG charts, inline CSS, no script, no network).

Modules: `page` (layout, KPIs, `render_report` / `write_report`), `traffic` (volumes, media split), `people`
(agents, queues), `abandonment`, `results` (technical results, quarantine, runs), `agent_states`; `svg`, `tables`,
`fmt` and `period` are the shared parts; `screenshot` renders the page in headless Chromium (docs/report.png).
"""

from etl.bi.report.page import Written, render_report, write_report
from etl.bi.report.palette import CHART_IDS, COLORS
from etl.bi.report.period import Period

__all__ = ["CHART_IDS", "COLORS", "Period", "Written", "render_report", "write_report"]
