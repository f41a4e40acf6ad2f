package dev.latchkey.sample;

import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.latchkey.sample.ReportService.Report;

/**
 * {@code POST /reports/{month}}: answers 200 with the report, or 409 when no permit became free in time.
 */
@RestController
public class ReportController {

	private final ReportService reports;

	public ReportController(ReportService reports) {
		this.reports = reports;
	}

	@PostMapping("/reports/{month}")
	public Report build(@PathVariable String month) {
		return this.reports.build(month);
	}

}
