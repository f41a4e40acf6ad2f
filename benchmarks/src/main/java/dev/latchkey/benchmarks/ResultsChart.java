/*
 * Copyright 2026-present the original author or authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *      https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

package dev.latchkey.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The suite's results as an SVG chart, written with plain strings: one row per backend
 * and contender, grouped by backend, with two panels of horizontal bars on logarithmic
 * axes: uncontended acquire+release latency (p50 and p99, shorter is better) and
 * throughput (one thread uncontended, and 8 threads contending for one key; longer is
 * better). Latchkey's bars are coloured, the floors' and peers' grey and orange.
 *
 * <pre class="code">
 * Files.writeString(Path.of("benchmarks/results.svg"), ResultsChart.svg(results, "2026-12-05, JDK 17"));
 * </pre>
 */
final class ResultsChart {

	private static final int WIDTH = 1220;

	private static final int LABEL_WIDTH = 420;

	private static final int PANEL_WIDTH = 330;

	private static final int PANEL_GAP = 70;

	private static final int TOP = 106;

	private static final int ROW = 22;

	private static final int GROUP_HEADER = 22;

	private static final int BAR = 8;

	private ResultsChart() {
	}

	static String svg(List<BenchmarkResult> results, String caption) {
		Axis latency = Axis.of(results, BenchmarkResult::p50Micros, BenchmarkResult::p99Micros);
		Axis throughput = Axis.of(results, BenchmarkResult::opsPerSecond, BenchmarkResult::contendedOpsPerSecond);
		int groups = (int) results.stream().map(BenchmarkResult::backend).distinct().count();
		int plotHeight = results.size() * ROW + groups * GROUP_HEADER;
		List<String> captionLines = wrap(caption, 150);
		int height = TOP + plotHeight + 66 + 14 * captionLines.size();
		int left = LABEL_WIDTH;
		int right = LABEL_WIDTH + PANEL_WIDTH + PANEL_GAP;
		StringBuilder svg = new StringBuilder();
		svg.append(String.format(Locale.ROOT,
				"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
						+ "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">%n",
				WIDTH, height, WIDTH, height));
		svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, height));
		svg.append(text(10, 22, "start", "font-size=\"16\" font-weight=\"bold\"",
				"Latchkey next to the floor and its peers, per backend"));
		legend(svg, 10, 44);
		panelTitle(svg, left, "Uncontended acquire+release", "µs, log scale: shorter is better");
		panelTitle(svg, right, "Throughput", "ops/s, log scale: longer is better");
		axis(svg, left, latency, plotHeight, true);
		axis(svg, right, throughput, plotHeight, false);
		int y = TOP;
		String backend = null;
		for (BenchmarkResult result : results) {
			if (!result.backend().equals(backend)) {
				backend = result.backend();
				svg.append(text(10, y + 15, "start", "font-weight=\"bold\"", backend));
				svg.append(String.format(Locale.ROOT,
						"<line x1=\"10\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ccc\"/>%n", y + 2, WIDTH - 10, y + 2));
				y += GROUP_HEADER;
			}
			String label = (result.contender().length() > 64) ? result.contender().substring(0, 63) + "…"
					: result.contender();
			svg.append(text(LABEL_WIDTH - 8, y + BAR + 4, "end",
					result.isLatchkey() ? "font-size=\"11\" font-weight=\"bold\"" : "font-size=\"11\"", label));
			String[] colours = colours(result);
			bar(svg, left, y + 1, latency, result.p50Micros(), colours[0], micros(result.p50Micros()));
			bar(svg, left, y + 1 + BAR + 1, latency, result.p99Micros(), colours[1], micros(result.p99Micros()));
			bar(svg, right, y + 1, throughput, result.opsPerSecond(), colours[0], count(result.opsPerSecond()));
			bar(svg, right, y + 1 + BAR + 1, throughput, result.contendedOpsPerSecond(), colours[2],
					count(result.contendedOpsPerSecond()));
			y += ROW;
		}
		int footer = TOP + plotHeight + 30;
		svg.append(text(10, footer, "start", "fill=\"#333\"",
				"Upper bar of a row: p50 (latency) and one thread (throughput); lower bar: p99, and 8 threads"
						+ " contending for one key. No bar: not measured."));
		for (String line : captionLines) {
			footer += 14;
			svg.append(text(10, footer, "start", "fill=\"#333\" font-size=\"11\"", line));
		}
		svg.append("</svg>\n");
		return svg.toString();
	}

	private static List<String> wrap(String text, int width) {
		List<String> lines = new ArrayList<>();
		StringBuilder line = new StringBuilder();
		for (String word : text.split(" ")) {
			if (line.length() > 0 && line.length() + 1 + word.length() > width) {
				lines.add(line.toString());
				line.setLength(0);
			}
			if (line.length() > 0) {
				line.append(' ');
			}
			line.append(word);
		}
		lines.add(line.toString());
		return lines;
	}

	private static String[] colours(BenchmarkResult result) {
		if (result.isLatchkey()) {
			return new String[] { "#0b6e69", "#7fc4bf", "#1f4e9c" };
		}
		if (result.isFloor()) {
			return new String[] { "#777777", "#c4c4c4", "#444444" };
		}
		return new String[] { "#c8642a", "#efb48c", "#8a3a10" };
	}

	private static void legend(StringBuilder svg, int x, int y) {
		String[][] entries = { { "#0b6e69", "Latchkey" }, { "#777777", "floor: raw requests, no lock library" },
				{ "#c8642a", "peer library" } };
		int at = x;
		for (String[] entry : entries) {
			svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>%n",
					at, y - 10, entry[0]));
			svg.append(text(at + 16, y, "start", "", entry[1]));
			at += 30 + entry[1].length() * 7;
		}
	}

	private static void panelTitle(StringBuilder svg, int x, String title, String unit) {
		svg.append(text(x, TOP - 38, "start", "font-weight=\"bold\"", title));
		svg.append(text(x, TOP - 24, "start", "fill=\"#555\"", unit));
	}

	private static void axis(StringBuilder svg, int x, Axis axis, int plotHeight, boolean micros) {
		for (int power = axis.low; power <= axis.high; power++) {
			double at = axis.x(x, Math.pow(10, power));
			svg.append(String.format(Locale.ROOT,
					"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e4e4e4\"/>%n", at, TOP - 4, at,
					TOP + plotHeight));
			double value = Math.pow(10, power);
			svg.append(text((int) Math.round(at), TOP - 7, "middle", "fill=\"#555\" font-size=\"10\"",
					micros ? micros(value) : count(value)));
		}
		svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/>%n", x,
				TOP - 4, x, TOP + plotHeight));
	}

	private static void bar(StringBuilder svg, int x, int y, Axis axis, double value, String colour, String label) {
		if (Double.isNaN(value) || value <= 0) {
			return;
		}
		double end = axis.x(x, value);
		svg.append(String.format(Locale.ROOT,
				"<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s</title></rect>%n", x, y,
				Math.max(1, end - x), BAR, colour, escape(label)));
		svg.append(text((int) Math.round(end) + 3, y + BAR - 1, "start", "fill=\"#333\" font-size=\"9\"", label));
	}

	private static String text(int x, int y, String anchor, String attributes, String content) {
		return String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" %s>%s</text>%n", x, y, anchor,
				attributes, escape(content));
	}

	static String micros(double micros) {
		if (micros >= 1000) {
			return format(micros / 1000) + " ms";
		}
		return format(micros) + " µs";
	}

	static String count(double count) {
		if (count >= 1_000_000) {
			return format(count / 1_000_000) + "M";
		}
		if (count >= 1000) {
			return format(count / 1000) + "k";
		}
		return format(count);
	}

	private static String format(double value) {
		if (value >= 100) {
			return String.format(Locale.ROOT, "%.0f", value);
		}
		return (value >= 10) ? String.format(Locale.ROOT, "%.1f", value).replace(".0", "")
				: String.format(Locale.ROOT, "%.2f", value).replaceAll("\\.?0+$", "");
	}

	private static String escape(String text) {
		return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
	}

	/**
	 * A logarithmic axis from a power of ten at or below the smallest value to one at or
	 * above the largest.
	 */
	private record Axis(int low, int high) {

		@SafeVarargs
		static Axis of(List<BenchmarkResult> results, ToDoubleFunction<BenchmarkResult>... measures) {
			double min = Double.MAX_VALUE;
			double max = 0;
			for (BenchmarkResult result : results) {
				for (ToDoubleFunction<BenchmarkResult> measure : measures) {
					double value = measure.applyAsDouble(result);
					if (!Double.isNaN(value) && value > 0) {
						min = Math.min(min, value);
						max = Math.max(max, value);
					}
				}
			}
			if (max == 0) {
				return new Axis(0, 1);
			}
			int low = (int) Math.floor(Math.log10(min));
			int high = Math.max(low + 1, (int) Math.ceil(Math.log10(max)));
			return new Axis(low, high);
		}

		double x(int origin, double value) {
			double fraction = (Math.log10(value) - this.low) / (this.high - this.low);
			return origin + PANEL_WIDTH * Math.max(0, Math.min(1, fraction));
		}

	}

}
