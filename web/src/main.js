// tubo's browser side: the live view (served by `tubo --ui`), or the HTML
// run report (written by --report-html), as the page's body says.

import { startLive } from "./live.js";
import { startReport } from "./reportpage.js";

if (document.body.dataset.mode === "report") startReport(document.body);
else startLive(document.body);
