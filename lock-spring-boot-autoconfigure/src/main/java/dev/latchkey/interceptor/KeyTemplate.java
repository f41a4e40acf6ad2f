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

package dev.latchkey.interceptor;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import org.springframework.expression.EvaluationException;
import org.springframework.expression.Expression;
import org.springframework.expression.ParseException;
import org.springframework.expression.spel.SpelNode;
import org.springframework.expression.spel.ast.Assign;
import org.springframework.expression.spel.ast.BeanReference;
import org.springframework.expression.spel.ast.ConstructorReference;
import org.springframework.expression.spel.ast.FunctionReference;
import org.springframework.expression.spel.ast.TypeReference;
import org.springframework.expression.spel.ast.VariableReference;
import org.springframework.expression.spel.standard.SpelExpression;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.expression.spel.support.SimpleEvaluationContext;

import dev.latchkey.LockConfigurationException;
import dev.latchkey.LockKeyException;

/**
 * A lock key template, parsed once when the application starts and evaluated at each
 * call.
 * <p>
 * Grammar: literal text stays as written; {@code #name}, {@code #name.property.property},
 * {@code #p0} and {@code #a0} runs are evaluated against the method arguments;
 * {@code #{...}} holds any expression over the same variables; {@code ##} is a literal
 * {@code #}. A run ends at the first character that is not a letter, digit, {@code _} or
 * a {@code .} followed by a letter. Expressions are evaluated in a restricted context:
 * property access and instance methods, but no type references, constructors, bean
 * references or assignments.
 * <p>
 * A holder description template ({@code description} of the annotations) is parsed and
 * evaluated the same way; only its messages name it differently.
 */
final class KeyTemplate {

	static final String KEY = "Lock key template";

	static final String DESCRIPTION = "Description template";

	private static final SpelExpressionParser parser = new SpelExpressionParser();

	private final String kind;

	private final String source;

	private final String description;

	private final List<Segment> segments;

	private final @Nullable String[] variableNames;

	private final boolean usesExpressions;

	private KeyTemplate(String kind, String source, String description, List<Segment> segments,
			@Nullable String[] variableNames) {
		this.kind = kind;
		this.source = source;
		this.description = description;
		this.segments = segments;
		this.variableNames = variableNames;
		this.usesExpressions = segments.stream().anyMatch(ExpressionSegment.class::isInstance);
	}

	/**
	 * Parses a template for a method.
	 * @param source the template
	 * @param method the method whose arguments the template reads
	 * @param description how to name the annotated method in errors
	 * @param parameterNames the method's parameter names, or {@code null} if they were
	 * not compiled in
	 * @return the parsed template
	 * @throws LockConfigurationException if the template does not parse or names an
	 * unknown parameter
	 */
	static KeyTemplate parse(String source, Method method, String description, @Nullable String[] parameterNames) {
		return parse(KEY, source, method, description, parameterNames);
	}

	/**
	 * Parses a template of some kind for a method.
	 * @param kind what the template is, as messages name it: {@link #KEY} or
	 * {@link #DESCRIPTION}
	 * @param source the template
	 * @param method the method whose arguments the template reads
	 * @param description how to name the annotated method in errors
	 * @param parameterNames the method's parameter names, or {@code null} if they were
	 * not compiled in
	 * @return the parsed template
	 * @throws LockConfigurationException if the template does not parse or names an
	 * unknown parameter
	 */
	static KeyTemplate parse(String kind, String source, Method method, String description,
			@Nullable String[] parameterNames) {
		int count = method.getParameterCount();
		Set<String> known = new LinkedHashSet<>();
		if (parameterNames != null) {
			known.addAll(List.of(parameterNames));
		}
		for (int i = 0; i < count; i++) {
			known.add("p" + i);
			known.add("a" + i);
		}
		Parser templateParser = new Parser(kind, source, description, known, parameterNames);
		List<Segment> segments = templateParser.parse();
		return new KeyTemplate(kind, source, description, segments, parameterNames);
	}

	boolean isConstant() {
		return this.segments.stream().allMatch(LiteralSegment.class::isInstance);
	}

	/**
	 * Makes the key for one call.
	 * @param arguments the call's arguments
	 * @return the key
	 * @throws LockKeyException if a segment evaluates to {@code null} or fails
	 */
	String evaluate(@Nullable Object[] arguments) {
		SimpleEvaluationContext context = this.usesExpressions ? context(arguments) : null;
		if (this.segments.size() == 1) {
			return this.segments.get(0).evaluate(arguments, context, this);
		}
		StringBuilder key = new StringBuilder(64);
		for (Segment segment : this.segments) {
			key.append(segment.evaluate(arguments, context, this));
		}
		return key.toString();
	}

	private SimpleEvaluationContext context(@Nullable Object[] arguments) {
		SimpleEvaluationContext context = SimpleEvaluationContext.forReadOnlyDataBinding()
			.withInstanceMethods()
			.withAssignmentDisabled()
			.build();
		for (int i = 0; i < arguments.length; i++) {
			context.setVariable("p" + i, arguments[i]);
			context.setVariable("a" + i, arguments[i]);
			// A Kotlin suspend function has one argument more than names: its
			// continuation.
			if (this.variableNames != null && i < this.variableNames.length) {
				context.setVariable(this.variableNames[i], arguments[i]);
			}
		}
		return context;
	}

	/**
	 * The text of a segment's value: its {@code toString()}, whose failure names the
	 * method and the parameter (or the expression) rather than escaping as the argument's
	 * own exception.
	 */
	private String text(Object value, String segment, int parameterIndex) {
		try {
			return value.toString();
		}
		catch (RuntimeException ex) {
			String parameter = (parameterIndex < 0) ? ""
					: " (parameter '"
							+ ((this.variableNames != null && this.variableNames[parameterIndex] != null)
									? this.variableNames[parameterIndex] : "p" + parameterIndex)
							+ "', argument " + parameterIndex + ")";
			throw new LockKeyException(this.kind + " '" + this.source + "' of " + this.description + ": '" + segment
					+ "'" + parameter + " could not be turned into text: toString() of its "
					+ value.getClass().getName() + " threw " + ex, ex);
		}
	}

	/**
	 * The failure of a call whose evaluated value was refused, for example a description
	 * longer than a lease takes.
	 * @param cause why it was refused
	 * @return the exception to throw, naming the template and the method
	 */
	LockKeyException refused(IllegalArgumentException cause) {
		return new LockKeyException(
				this.kind + " '" + this.source + "' of " + this.description + ": " + cause.getMessage(), cause);
	}

	private LockKeyException evaluatedToNull(String segment) {
		return new LockKeyException(
				this.kind + " '" + this.source + "' of " + this.description + ": '" + segment + "' evaluated to null");
	}

	@Override
	public String toString() {
		return this.source;
	}

	private sealed interface Segment permits LiteralSegment, ArgumentSegment, ExpressionSegment {

		String evaluate(@Nullable Object[] arguments, @Nullable SimpleEvaluationContext context, KeyTemplate template);

	}

	private record LiteralSegment(String text) implements Segment {

		@Override
		public String evaluate(@Nullable Object[] arguments, @Nullable SimpleEvaluationContext context,
				KeyTemplate template) {
			return this.text;
		}

	}

	/**
	 * A bare {@code #name} or {@code #p0}: read directly, without an expression
	 * evaluation.
	 */
	private record ArgumentSegment(String source, int index) implements Segment {

		@Override
		public String evaluate(@Nullable Object[] arguments, @Nullable SimpleEvaluationContext context,
				KeyTemplate template) {
			Object value = arguments[this.index];
			if (value == null) {
				throw template.evaluatedToNull(this.source);
			}
			return template.text(value, this.source, this.index);
		}

	}

	private record ExpressionSegment(String source, Expression expression) implements Segment {

		@Override
		public String evaluate(@Nullable Object[] arguments, @Nullable SimpleEvaluationContext context,
				KeyTemplate template) {
			Object value;
			try {
				value = this.expression.getValue(context);
			}
			catch (EvaluationException ex) {
				throw new LockKeyException(template.kind + " '" + template.source + "' of " + template.description
						+ ": '" + this.source + "' could not be evaluated: " + ex.getMessage(), ex);
			}
			if (value == null) {
				throw template.evaluatedToNull(this.source);
			}
			return template.text(value, this.source, -1);
		}

	}

	private static final class Parser {

		private final String kind;

		private final String source;

		private final String description;

		private final Set<String> known;

		private final @Nullable String[] parameterNames;

		private final List<Segment> segments = new ArrayList<>();

		private final StringBuilder literal = new StringBuilder();

		Parser(String kind, String source, String description, Set<String> known, @Nullable String[] parameterNames) {
			this.kind = kind;
			this.source = source;
			this.description = description;
			this.known = known;
			this.parameterNames = parameterNames;
		}

		List<Segment> parse() {
			int i = 0;
			int length = this.source.length();
			while (i < length) {
				char c = this.source.charAt(i);
				if (c != '#') {
					this.literal.append(c);
					i++;
					continue;
				}
				char next = (i + 1 < length) ? this.source.charAt(i + 1) : 0;
				if (next == '#') {
					this.literal.append('#');
					i += 2;
				}
				else if (next == '{') {
					int end = closingBrace(i + 2);
					addExpression("#{" + this.source.substring(i + 2, end) + "}", this.source.substring(i + 2, end));
					i = end + 1;
				}
				else if (Character.isLetter(next) || next == '_') {
					int end = endOfRun(i + 1);
					String run = this.source.substring(i, end);
					addRun(run);
					i = end;
				}
				else {
					throw fail("has a '#' at position " + i + " that starts neither #name, #{...} nor ##",
							"Write ## for a literal '#', #name or #p0 for an argument, #{...} for an expression");
				}
			}
			flushLiteral();
			if (this.segments.isEmpty()) {
				throw fail("is empty", "Give the annotation a key, for example \"order:#id\"");
			}
			return List.copyOf(this.segments);
		}

		private int closingBrace(int from) {
			int depth = 0;
			char quote = 0;
			for (int i = from; i < this.source.length(); i++) {
				char c = this.source.charAt(i);
				if (quote != 0) {
					if (c == quote) {
						quote = 0;
					}
				}
				else if (c == '\'' || c == '"') {
					quote = c;
				}
				else if (c == '{') {
					depth++;
				}
				else if (c == '}') {
					if (depth == 0) {
						return i;
					}
					depth--;
				}
			}
			throw fail("has a '#{' at position " + (from - 2) + " that is never closed",
					"Close the expression with '}'");
		}

		private int endOfRun(int from) {
			int i = from;
			int length = this.source.length();
			while (i < length) {
				char c = this.source.charAt(i);
				if (Character.isLetterOrDigit(c) || c == '_') {
					i++;
				}
				else if (c == '.' && i + 1 < length
						&& (Character.isLetter(this.source.charAt(i + 1)) || this.source.charAt(i + 1) == '_')) {
					i++;
				}
				else {
					break;
				}
			}
			return i;
		}

		private void addRun(String run) {
			String name = run.substring(1);
			if (!name.contains(".")) {
				int index = indexOf(name);
				if (index < 0) {
					throw unknown(name);
				}
				flushLiteral();
				this.segments.add(new ArgumentSegment(run, index));
				return;
			}
			addExpression(run, run);
		}

		private int indexOf(String name) {
			if (this.parameterNames != null) {
				for (int i = 0; i < this.parameterNames.length; i++) {
					if (name.equals(this.parameterNames[i])) {
						return i;
					}
				}
			}
			if (this.known.contains(name) && name.length() > 1) {
				return Integer.parseInt(name.substring(1));
			}
			return -1;
		}

		private void addExpression(String segmentSource, String expressionText) {
			SpelExpression expression;
			try {
				expression = (SpelExpression) parser.parseExpression(expressionText);
			}
			catch (ParseException ex) {
				throw fail("has an expression '" + segmentSource + "' that does not parse: " + ex.getMessage(),
						"Fix the expression; see the key template grammar in the README", ex);
			}
			check(expression.getAST(), segmentSource);
			flushLiteral();
			this.segments.add(new ExpressionSegment(segmentSource, expression));
		}

		private void check(SpelNode node, String segmentSource) {
			if (node instanceof VariableReference) {
				String name = node.toStringAST().substring(1);
				if (!"this".equals(name) && !"root".equals(name) && !this.known.contains(name)) {
					throw unknown(name);
				}
			}
			else if (node instanceof TypeReference || node instanceof ConstructorReference
					|| node instanceof BeanReference || node instanceof Assign || node instanceof FunctionReference) {
				throw fail("uses '" + node.toStringAST() + "' in '" + segmentSource
						+ "', which key templates do not allow (no types, constructors, bean references, functions or"
						+ " assignments)", "Compute the value in the method's caller and pass it as an argument");
			}
			for (int i = 0; i < node.getChildCount(); i++) {
				check(node.getChild(i), segmentSource);
			}
		}

		private void flushLiteral() {
			if (!this.literal.isEmpty()) {
				this.segments.add(new LiteralSegment(this.literal.toString()));
				this.literal.setLength(0);
			}
		}

		private LockConfigurationException unknown(String name) {
			String action = "Use one of the method's arguments: " + String.join(", ", this.known);
			if (this.parameterNames == null) {
				action += ". Parameter names are not available: compile with -parameters to use them";
			}
			return fail("names an unknown parameter '" + name + "'", action);
		}

		private LockConfigurationException fail(String problem, String action) {
			return fail(problem, action, null);
		}

		private LockConfigurationException fail(String problem, String action, @Nullable Throwable cause) {
			return new LockConfigurationException(
					this.kind + " '" + this.source + "' of " + this.description + " " + problem, action, cause);
		}

	}

}
