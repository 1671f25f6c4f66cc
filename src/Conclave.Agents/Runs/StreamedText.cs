using System.Text;

namespace Conclave.Agents.Runs;

/// <summary>
/// The text one model turn streams, sent as the output's <c>token</c> and <c>thinking</c> deltas. Pieces of one kind that
/// the model had ready one after another (its next update was there before the last piece was sent) go out as one
/// delta of at most <paramref name="maxMergedChars"/> characters (0: each piece on its own); the loop sends what is
/// pending before it waits for the model, so nothing is held back for a piece still to come. A piece is never split: one
/// longer than the limit goes out alone.
/// </summary>
/// <param name="output">Where the deltas go.</param>
/// <param name="answer">The run's answer, to which each answer piece is appended before it is added here.</param>
/// <param name="maxMergedChars">The most characters one merged delta carries.</param>
internal sealed class StreamedText(AgentOutput output, StringBuilder answer, int maxMergedChars)
{
    private bool _pendingIsAnswer;
    private int _pieces;
    private int _length;

    // The pending delta's only piece, while it has one; then its text is in the answer (_length characters from
    // _answerFrom: the piece being added may follow it there already) or in _thinking.
    private string? _first;
    private int _answerFrom;
    private StringBuilder? _thinking;

    /// <summary>Adds a piece of the answer, already appended to the answer.</summary>
    public async ValueTask AddAnswerAsync(string text)
    {
        if (_pieces > 0 && (!_pendingIsAnswer || _length + text.Length > maxMergedChars))
        {
            await FlushAsync();
        }

        if (_pieces == 0)
        {
            _pendingIsAnswer = true;
            _first = text;
            _answerFrom = answer.Length - text.Length;
        }

        await AddedAsync(text.Length);
    }

    /// <summary>Adds a piece of reasoning.</summary>
    public async ValueTask AddReasoningAsync(string text)
    {
        if (_pieces > 0 && (_pendingIsAnswer || _length + text.Length > maxMergedChars))
        {
            await FlushAsync();
        }

        if (_pieces == 0)
        {
            _pendingIsAnswer = false;
            _first = text;
        }
        else
        {
            if (_pieces == 1)
            {
                (_thinking ??= new StringBuilder()).Clear().Append(_first);
            }

            _thinking!.Append(text);
        }

        await AddedAsync(text.Length);
    }

    /// <summary>Sends the pending delta, if there is one.</summary>
    public ValueTask FlushAsync()
    {
        if (_pieces == 0)
        {
            return ValueTask.CompletedTask;
        }

        var text = _pieces == 1 ? _first!
            : _pendingIsAnswer ? answer.ToString(_answerFrom, _length)
            : _thinking!.ToString();
        _pieces = 0;
        _length = 0;
        _first = null;
        return _pendingIsAnswer ? output.TokenAsync(text) : output.ThinkingAsync(text);
    }

    private ValueTask AddedAsync(int length)
    {
        _pieces++;
        _length += length;
        return _length >= maxMergedChars ? FlushAsync() : ValueTask.CompletedTask;
    }
}
