using Conclave.Agents.Tools;

namespace Conclave.Agents.Tests.Tools;

public sealed class ArithmeticEvaluatorTests
{
    [Theory]
    [InlineData("2+3*4", 14)]
    [InlineData("10-4/2", 8)]
    [InlineData("2*3+4*5", 26)]
    [InlineData("10-3-2", 5)]
    [InlineData("64/4/2", 8)]
    public void MultiplicationAndDivisionBindTighterThanAdditionAndSubtraction(string expression, double expected) =>
        Assert.Equal(expected, ArithmeticEvaluator.Evaluate(expression));

    [Theory]
    [InlineData("(2+3)*4", 20)]
    [InlineData("2*(3+(4-1))", 12)]
    [InlineData("((((7))))", 7)]
    [InlineData(" ( 1 + 2 ) * ( 3 + 4 ) ", 21)]
    public void ParenthesesGroupFirst(string expression, double expected) =>
        Assert.Equal(expected, ArithmeticEvaluator.Evaluate(expression));

    [Theory]
    [InlineData("-5", -5)]
    [InlineData("-5+3", -2)]
    [InlineData("3*-2", -6)]
    [InlineData("--4", 4)]
    [InlineData("-(2+3)", -5)]
    [InlineData("+7", 7)]
    [InlineData("2^-1", 0.5)]
    public void UnaryMinusNegatesWhatFollows(string expression, double expected) =>
        Assert.Equal(expected, ArithmeticEvaluator.Evaluate(expression));

    [Theory]
    [InlineData("2^3^2", 512)]
    [InlineData("2^3", 8)]
    [InlineData("-2^2", -4)]
    [InlineData("2^-2", 0.25)]
    [InlineData("2*3^2", 18)]
    [InlineData("(2^3)^2", 64)]
    public void PowerIsRightAssociativeAndBindsTighterThanMultiplication(string expression, double expected) =>
        Assert.Equal(expected, ArithmeticEvaluator.Evaluate(expression));

    [Theory]
    [InlineData("7%3", 1)]
    [InlineData("10%4*2", 4)]
    [InlineData("5.5%2", 1.5)]
    [InlineData("1+7%3", 2)]
    public void PercentIsTheRemainderAtMultiplicationPrecedence(string expression, double expected) =>
        Assert.Equal(expected, ArithmeticEvaluator.Evaluate(expression));

    [Theory]
    [InlineData("1.5*2", 3)]
    [InlineData(".5+.25", 0.75)]
    [InlineData("0.1*10", 1)]
    [InlineData("3.25", 3.25)]
    public void DecimalsAreRead(string expression, double expected) =>
        Assert.Equal(expected, ArithmeticEvaluator.Evaluate(expression));

    [Fact]
    public void TwelveTimesThreePlusFourIsEightyFourAndFormatsWithoutDecimals()
    {
        var value = ArithmeticEvaluator.Evaluate("12*(3+4)");

        Assert.Equal(84, value);
        Assert.Equal("84", ArithmeticEvaluator.Format(value));
    }

    [Theory]
    [InlineData(0.5, "0.5")]
    [InlineData(-2.25, "-2.25")]
    [InlineData(1e21, "1E+21")]
    public void FormatWritesNumbersAsPeopleDo(double value, string expected) =>
        Assert.Equal(expected, ArithmeticEvaluator.Format(value));

    [Fact]
    public void FormatHidesBinaryRoundingNoise() =>
        Assert.Equal("0.3", ArithmeticEvaluator.Format(ArithmeticEvaluator.Evaluate("0.1+0.2")));

    [Theory]
    [InlineData("1/0")]
    [InlineData("1%0")]
    [InlineData("5/(2-2)")]
    [InlineData("0/0")]
    public void DivisionByZeroIsAToolError(string expression)
    {
        var error = Assert.Throws<ToolException>(() => ArithmeticEvaluator.Evaluate(expression));

        Assert.Contains("Division by zero", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2+")]
    [InlineData("abc")]
    [InlineData("(1")]
    [InlineData("1)")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("2 3")]
    [InlineData("1.2.3")]
    [InlineData("2**3")]
    [InlineData("1e5")]
    [InlineData("()")]
    public void MalformedInputIsAToolError(string expression) =>
        Assert.Throws<ToolException>(() => ArithmeticEvaluator.Evaluate(expression));

    [Theory]
    [InlineData("System.IO.File.Delete(\"x\")")]
    [InlineData("Math.Pow(2, 3)")]
    [InlineData("__import__('os').system('id')")]
    [InlineData("1; rm -rf /")]
    public void CodeIsNotEvaluated(string expression) =>
        Assert.Throws<ToolException>(() => ArithmeticEvaluator.Evaluate(expression));

    [Theory]
    [InlineData("10^400")]
    [InlineData("(0-8)^0.5")]
    public void ResultsThatAreNotFiniteAreAToolError(string expression)
    {
        var error = Assert.Throws<ToolException>(() => ArithmeticEvaluator.Evaluate(expression));

        Assert.Contains("not a finite number", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InputLongerThanAThousandCharactersIsRefused()
    {
        var expression = "1" + string.Concat(Enumerable.Repeat("+1", 500));

        var error = Assert.Throws<ToolException>(() => ArithmeticEvaluator.Evaluate(expression));

        Assert.Contains("longer than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InputOfAThousandCharactersIsEvaluated()
    {
        var expression = "1" + string.Concat(Enumerable.Repeat("+1", 499)) + " ";

        Assert.Equal(1000, expression.Length);
        Assert.Equal(500, ArithmeticEvaluator.Evaluate(expression));
    }

    [Theory]
    [InlineData(65)]
    [InlineData(400)]
    public void ParenthesesNestedTooDeeplyAreRefused(int depth)
    {
        var expression = new string('(', depth) + "1" + new string(')', depth);

        var error = Assert.Throws<ToolException>(() => ArithmeticEvaluator.Evaluate(expression));

        Assert.Contains("nested too deeply", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParenthesesNestedSixtyFourDeepAreEvaluated() =>
        Assert.Equal(1, ArithmeticEvaluator.Evaluate(new string('(', 64) + "1" + new string(')', 64)));

    [Fact]
    public void AChainOfUnaryMinusesTooLongIsRefused() =>
        Assert.Throws<ToolException>(() => ArithmeticEvaluator.Evaluate(new string('-', 500) + "1"));

    [Fact]
    public void AChainOfPowersTooLongIsRefused() =>
        Assert.Throws<ToolException>(() => ArithmeticEvaluator.Evaluate("1" + string.Concat(Enumerable.Repeat("^1", 300))));
}
