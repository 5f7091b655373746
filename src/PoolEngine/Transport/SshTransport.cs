using System;

namespace ProcessPool.Engine.Transport
{
    /// <summary>
    /// A worker on another host, reached through the user's own OpenSSH client: the local <c>ssh</c> child's stdin and
    /// stdout are the SSH channel, so the protocol runs over it unchanged. Killing the worker kills the local ssh; the
    /// channel closes, the remote worker reads EOF and exits, ending the processes it started.
    /// </summary>
    internal sealed class SshTransport : ProcessTransport
    {
        /// <summary>ssh's exit status for its own failures (connection, host key, authentication), as opposed to the remote command's.</summary>
        public const int SshFailureExitCode = 255;

        public SshTransport(WorkerLaunch launch, Action<string> onErrorLine, Action<Exception>? onRelayFailed = null) : base(launch, onErrorLine, onRelayFailed) { }

        public override string? HostName => Launch.HostName;

        public override string? ExplainEnd(int? exitCode, int? signal)
        {
            string tail = RecentErrorOutput();
            if (exitCode == SshFailureExitCode)
                return tail.Length == 0 ? $"ssh to '{HostName}' failed (exit code 255)" : $"ssh to '{HostName}' failed: {tail}";
            return tail.Length == 0 ? null : $"'{HostName}' said: {tail}";
        }
    }
}
