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
/// <param name="maxMergedChars">The most characters one merged delta carries.</param>
internal sealed class StreamedText(AgentOutput output, int maxMergedChars)
{
    private bool _pendingIsAnswer;
    private int _pieces;

    // The pending delta's only piece, while it has one; from its second piece on, the pieces joined in _merged.
    private string? _first;
    private StringBuilder? _merged;

    private int PendingLength => _pieces == 1 ? _first!.Length : _merged?.Length ?? 0;

    /// <summary>Adds a piece of the answer.</summary>
    public ValueTask AddAnswerAsync(string text) => AddAsync(text, isAnswer: true);

    /// <summary>Adds a piece of reasoning.</summary>
    public ValueTask AddReasoningAsync(string text) => AddAsync(text, isAnswer: false);

    /// <summary>Sends the pending delta, if there is one.</summary>
    public ValueTask FlushAsync()
    {
        if (_pieces == 0)
        {
            return ValueTask.CompletedTask;
        }

        var text = _pieces == 1 ? _first! : _merged!.ToString();
        _pieces = 0;
        _first = null;
        _merged?.Clear();
        return _pendingIsAnswer ? output.TokenAsync(text) : output.ThinkingAsync(text);
    }

    private async ValueTask AddAsync(string text, bool isAnswer)
    {
        if (_pieces > 0 && (_pendingIsAnswer != isAnswer || PendingLength + text.Length > maxMergedChars))
        {
            await FlushAsync();
        }

        if (_pieces == 0)
        {
            _pendingIsAnswer = isAnswer;
            _first = text;
        }
        else
        {
            if (_pieces == 1)
            {
                (_merged ??= new StringBuilder()).Append(_first);
            }

            _merged!.Append(text);
        }

        _pieces++;
        if (PendingLength >= maxMergedChars)
        {
            await FlushAsync();
        }
    }
}
