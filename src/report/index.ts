/**
 * Reports of a review (Workers-safe): GitHub markdown, a kernel-list mail, JSON, HTML and b4's check
 * protocol, all rendered from one ReviewReport.
 */

import type { ReviewReport } from "../review/report.ts";
import { type EmailOptions, renderEmail } from "./email.ts";
import type { ReportFormat } from "./formats.ts";
import { type HtmlOptions, renderHtml } from "./html.ts";
import { type MarkdownOptions, renderMarkdown } from "./markdown.ts";

export type { ReviewReport, SeriesRef } from "../review/report.ts";
export { type B4Check, type B4Context, b4Checks, checkpatchLines } from "./b4.ts";
export { type EmailOptions, renderEmail, reviewText, rfc2822Date } from "./email.ts";
export { DEFAULT_FROM, isReportFormat, REPORT_FORMATS, type ReportFormat } from "./formats.ts";
export {
  type CheckAnnotation,
  type CommentOptions,
  checkAnnotations,
  MAX_ANNOTATIONS,
  renderComment,
} from "./github.ts";
export { escapeHtml, type HtmlOptions, inlineScript, renderHtml } from "./html.ts";
export { CHECK_RUN_TEXT_LIMIT, type MarkdownOptions, renderMarkdown } from "./markdown.ts";
export {
  type Diagram,
  type DiagramOptions,
  MERMAID_BLOCK_LIMIT,
  mermaidText,
  sequenceDiagram,
} from "./mermaid.ts";
export { MAIL_WIDTH, wrap } from "./wrap.ts";

export function renderJson(r: ReviewReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

export interface RenderOptions {
  markdown?: MarkdownOptions;
  /** Needed for "email": the Date header and Message-ID. */
  email?: EmailOptions;
  /** Needed for "html": mermaid's browser bundle to inline. */
  html?: HtmlOptions;
}

/** Renders a review in one of the formats; `review` and `diff` both print through this. */
export function renderReview(r: ReviewReport, format: ReportFormat, opts: RenderOptions = {}): string {
  switch (format) {
    case "markdown":
      return renderMarkdown(r, opts.markdown);
    case "json":
      return renderJson(r);
    case "email":
      return renderEmail(r, opts.email ?? { date: new Date() });
    case "html":
      if (!opts.html) throw new TypeError("renderReview: the html format needs opts.html.mermaidScript");
      return renderHtml(r, opts.html);
  }
}
