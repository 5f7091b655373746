using System;

namespace ProcessPool.Engine.Protocol
{
    /// <summary>An error as it crosses the wire: type, message, stack and runner-specific detail bytes.</summary>
    internal sealed class ErrorInfo
    {
        public ErrorInfo(string type, string message, string? stackTrace = null, byte[]? detail = null)
        {
            Type = type;
            Message = message;
            StackTrace = stackTrace;
            Detail = detail;
        }

        public string Type { get; }
        public string Message { get; }
        public string? StackTrace { get; }
        public byte[]? Detail { get; }

        /// <summary>Unwraps reflection and task wrappers so the user sees the exception their code threw.</summary>
        public static ErrorInfo FromException(Exception error, byte[]? detail = null)
        {
            while ((error is System.Reflection.TargetInvocationException || error is AggregateException) && error.InnerException != null)
                error = error.InnerException;
            return new ErrorInfo(error.GetType().FullName ?? error.GetType().Name, error.Message, error.StackTrace, detail);
        }

        public void WriteTo(ByteBuffer body)
        {
            body.WriteString(Type);
            body.WriteString(Message);
            body.WriteString(StackTrace);
            body.WriteBlob(Detail);
        }

        public static ErrorInfo ReadFrom(ref BodyReader body)
        {
            string type = body.ReadString() ?? "UnknownError";
            string message = body.ReadString() ?? "";
            string? stack = body.ReadString();
            byte[]? detail = body.ReadBlob();
            return new ErrorInfo(type, message, stack, detail);
        }

        public RemoteItemException ToException() => new RemoteItemException(Type, Message, StackTrace, Detail);

        public override string ToString() => $"{Type}: {Message}";
    }
}
