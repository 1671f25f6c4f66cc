namespace Conclave.Agents.Tools;

/// <summary>A tool could not do what it was asked; the message is told to the model and the user.</summary>
public sealed class ToolException(string message) : Exception(message);
