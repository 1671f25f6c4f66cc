using System.Globalization;

namespace Conclave.Agents.Tools;

/// <summary>
/// Evaluates arithmetic: numbers, + - * / % ^, unary signs and parentheses. A small recursive-descent
/// parser, so no expression can run code.
/// </summary>
public static class ArithmeticEvaluator
{
    private const int MaxLength = 1_000;
    private const int MaxDepth = 64;

    /// <summary>Evaluates the expression, or throws <see cref="ToolException"/> saying what is wrong with it.</summary>
    public static double Evaluate(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        if (expression.Length > MaxLength)
        {
            throw new ToolException($"The expression is longer than {MaxLength} characters.");
        }

        var parser = new Parser(expression);
        var value = parser.ParseExpression(0);
        parser.SkipSpaces();
        if (!parser.AtEnd)
        {
            throw new ToolException($"Unexpected '{expression[parser.Position]}' at position {parser.Position + 1}.");
        }

        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            throw new ToolException("The result is not a finite number.");
        }

        return value;
    }

    /// <summary>Formats a result the way people write it: 84, 0.5, 1E+21.</summary>
    public static string Format(double value) => value.ToString("G15", CultureInfo.InvariantCulture);

    private ref struct Parser(string text)
    {
        private readonly string _text = text;

        public int Position { get; private set; }

        public readonly bool AtEnd => Position >= _text.Length;

        public void SkipSpaces()
        {
            while (!AtEnd && char.IsWhiteSpace(_text[Position]))
            {
                Position++;
            }
        }

        // expression := term (('+' | '-') term)*
        public double ParseExpression(int depth)
        {
            var value = ParseTerm(depth);
            while (true)
            {
                SkipSpaces();
                if (AtEnd)
                {
                    return value;
                }

                var op = _text[Position];
                if (op is not ('+' or '-'))
                {
                    return value;
                }

                Position++;
                var right = ParseTerm(depth);
                value = op == '+' ? value + right : value - right;
            }
        }

        // term := unary (('*' | '/' | '%') unary)*
        private double ParseTerm(int depth)
        {
            var value = ParseUnary(depth);
            while (true)
            {
                SkipSpaces();
                if (AtEnd)
                {
                    return value;
                }

                var op = _text[Position];
                if (op is not ('*' or '/' or '%'))
                {
                    return value;
                }

                Position++;
                var right = ParseUnary(depth);
                if (op != '*' && right == 0)
                {
                    throw new ToolException("Division by zero.");
                }

                value = op switch
                {
                    '*' => value * right,
                    '/' => value / right,
                    _ => value % right,
                };
            }
        }

        // unary := ('+' | '-') unary | power     (so -2^2 is -(2^2), as in mathematics)
        private double ParseUnary(int depth)
        {
            Guard(depth);
            SkipSpaces();
            if (!AtEnd && _text[Position] is '+' or '-')
            {
                var negative = _text[Position] == '-';
                Position++;
                var value = ParseUnary(depth + 1);
                return negative ? -value : value;
            }

            return ParsePower(depth);
        }

        // power := primary ('^' unary)?   (right-associative; 2^-1 is allowed)
        private double ParsePower(int depth)
        {
            var value = ParsePrimary(depth);
            SkipSpaces();
            if (!AtEnd && _text[Position] == '^')
            {
                Position++;
                return Math.Pow(value, ParseUnary(depth + 1));
            }

            return value;
        }

        // primary := number | '(' expression ')'
        private double ParsePrimary(int depth)
        {
            SkipSpaces();
            if (AtEnd)
            {
                throw new ToolException("The expression ends too early.");
            }

            if (_text[Position] == '(')
            {
                Position++;
                var value = ParseExpression(depth + 1);
                SkipSpaces();
                if (AtEnd || _text[Position] != ')')
                {
                    throw new ToolException("A parenthesis is not closed.");
                }

                Position++;
                return value;
            }

            var start = Position;
            while (!AtEnd && (char.IsAsciiDigit(_text[Position]) || _text[Position] == '.'))
            {
                Position++;
            }

            if (start == Position)
            {
                throw new ToolException($"Unexpected '{_text[Position]}' at position {Position + 1}.");
            }

            var span = _text.AsSpan(start, Position - start);
            return double.TryParse(span, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
                ? number
                : throw new ToolException($"'{span}' is not a number.");
        }

        private static void Guard(int depth)
        {
            if (depth > MaxDepth)
            {
                throw new ToolException("The expression is nested too deeply.");
            }
        }
    }
}
