/**
 * The report formats and the default sender of the email format: a leaf module, so the CLI can list them
 * without loading the renderers.
 */
export const REPORT_FORMATS = ["markdown", "email", "json", "html"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(s: string): s is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(s);
}

export const DEFAULT_FROM = "rproc-review <rproc-review@rproc-review.invalid>";
