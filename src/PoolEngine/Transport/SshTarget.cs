using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace ProcessPool.Engine
{
    /// <summary>
    /// One remote host of a pool: <c>host</c>, <c>user@host</c>, <c>host:port</c>, <c>[v6]:port</c>. A name that ssh could
    /// read as an option (a leading <c>-</c>) or that holds whitespace or a control character is refused before
    /// anything runs.
    /// </summary>
    public sealed class SshTarget
    {
        private SshTarget(string host, string? user, int? port)
        {
            Host = host;
            UserName = user;
            Port = port;
        }

        /// <summary>Host name or address.</summary>
        public string Host { get; }

        /// <summary>User name, or null for ssh's default (the configuration's, else the local user).</summary>
        public string? UserName { get; }

        /// <summary>Port, or null for ssh's default.</summary>
        public int? Port { get; }

        /// <summary>The destination as shown in messages: <c>user@host:port</c> with what was given.</summary>
        public string Display =>
            (UserName != null ? UserName + "@" : "") + (Host.Contains(":") && Port != null ? "[" + Host + "]" : Host) + (Port != null ? ":" + Port.Value.ToString(CultureInfo.InvariantCulture) : "");

        /// <summary>Parses <paramref name="text"/>; <paramref name="defaultUser"/> and <paramref name="defaultPort"/> apply where it names none.</summary>
        /// <exception cref="ArgumentException">The text is not a safe host name.</exception>
        public static SshTarget Parse(string text, string? defaultUser = null, int? defaultPort = null)
        {
            if (string.IsNullOrEmpty(text)) throw new ArgumentException("A host name is empty.");
            RefuseUnsafe(text, "host name");
            string? user = defaultUser;
            string rest = text;
            int at = text.LastIndexOf('@');
            if (at >= 0)
            {
                user = text.Substring(0, at);
                rest = text.Substring(at + 1);
                if (user.Length == 0) throw new ArgumentException($"The host name '{text}' has an empty user name before '@'.");
            }
            string host = rest;
            int? port = defaultPort;
            if (rest.StartsWith("[", StringComparison.Ordinal))
            {
                int close = rest.IndexOf(']');
                if (close < 0) throw new ArgumentException($"The host name '{text}' opens '[' without closing it.");
                host = rest.Substring(1, close - 1);
                string after = rest.Substring(close + 1);
                if (after.Length > 0)
                {
                    if (!after.StartsWith(":", StringComparison.Ordinal)) throw new ArgumentException($"The host name '{text}' has text after ']' that is not ':port'.");
                    port = ParsePort(after.Substring(1), text);
                }
            }
            else if (rest.IndexOf(':') >= 0 && rest.IndexOf(':') == rest.LastIndexOf(':'))
            {
                int colon = rest.IndexOf(':');
                host = rest.Substring(0, colon);
                port = ParsePort(rest.Substring(colon + 1), text);
            }
            if (host.Length == 0) throw new ArgumentException($"The host name '{text}' names no host.");
            RefuseUnsafe(host, "host name");
            if (user != null) RefuseUnsafe(user, "user name");
            if (host.StartsWith("-", StringComparison.Ordinal)) throw new ArgumentException($"The host name '{text}' starts with '-', which ssh would read as an option.");
            if (user != null && user.StartsWith("-", StringComparison.Ordinal)) throw new ArgumentException($"The user name '{user}' starts with '-', which ssh would read as an option.");
            if (port is int p && (p < 1 || p > 65535)) throw new ArgumentException($"The port {p} of '{text}' is not between 1 and 65535.");
            return new SshTarget(host, user, port);
        }

        private static int ParsePort(string text, string whole)
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port < 1 || port > 65535)
                throw new ArgumentException($"The port in '{whole}' is not a number between 1 and 65535.");
            return port;
        }

        /// <summary>Refuses whitespace and control characters, which would let a value be read as several ssh arguments or config lines.</summary>
        internal static void RefuseUnsafe(string value, string what)
        {
            if (value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                throw new ArgumentException($"The {what} '{Printable(value)}' holds whitespace or a control character.");
        }

        private static string Printable(string value) =>
            new string(value.Select(c => char.IsControl(c) ? '?' : c).ToArray());

        /// <inheritdoc />
        public override string ToString() => Display;
    }

    /// <summary>
    /// How a pool reaches its remote hosts: the system OpenSSH client, always with <c>BatchMode=yes</c> (nothing may
    /// prompt) and host keys checked (<c>StrictHostKeyChecking=yes</c> unless the options say <c>accept-new</c>;
    /// <c>no</c> is refused). No password: keys, the agent and the user's ssh configuration only.
    /// </summary>
    public sealed class SshSettings
    {
        /// <summary>The ssh executable: <c>ssh</c> (<c>ssh.exe</c> on Windows) found on PATH unless set.</summary>
        public string? SshPath { get; set; }

        /// <summary>Identity file (<c>-i</c>), or null for ssh's defaults and agent.</summary>
        public string? KeyFilePath { get; set; }

        /// <summary>Extra <c>-o</c> options, given before the pool's own defaults so that the user's value wins (ssh takes the first value of an option).</summary>
        public IDictionary<string, string> Options { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Time to establish the connection (<c>ConnectTimeout</c>, whole seconds, rounded up), or null for ssh's default.</summary>
        public TimeSpan? ConnectTimeout { get; set; }

        /// <summary>
        /// Keep-alive probe period (<c>ServerAliveInterval</c>, with ServerAliveCountMax 3) unless the options set one.
        /// Default 15 s: a host that vanishes without closing the connection is noticed within about 45 s, so its chunks
        /// are re-run elsewhere instead of waiting on TCP's own timeout (minutes to hours).
        /// </summary>
        public TimeSpan ServerAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

        /// <summary>Builds the launch of one worker on <paramref name="target"/> that runs <paramref name="remoteCommand"/> (fixed bootstrap code, never user data).</summary>
        public WorkerLaunch Launch(SshTarget target, string remoteCommand, IWorkerPreamble? preamble)
        {
            var args = new List<string> { "-T", "-o", "BatchMode=yes" };
            foreach (var pair in Options)
            {
                SshTarget.RefuseUnsafe(pair.Key, "ssh option name");
                if (pair.Value.Any(char.IsControl)) throw new ArgumentException($"The ssh option {pair.Key} holds a control character.");
                string value = pair.Value.Trim();
                if (pair.Key.Equals("StrictHostKeyChecking", StringComparison.OrdinalIgnoreCase) &&
                    !(value.Equals("yes", StringComparison.OrdinalIgnoreCase) || value.Equals("accept-new", StringComparison.OrdinalIgnoreCase)))
                    throw new ArgumentException($"StrictHostKeyChecking={value} is refused: host keys are always checked (use yes or accept-new).");
                if (pair.Key.Equals("BatchMode", StringComparison.OrdinalIgnoreCase) && !value.Equals("yes", StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException("BatchMode is always yes: a pool's ssh must never prompt.");
                if (pair.Key.Equals("BatchMode", StringComparison.OrdinalIgnoreCase)) continue;
                args.Add("-o");
                args.Add(pair.Key + "=" + value);
            }
            if (!Options.ContainsKey("StrictHostKeyChecking")) { args.Add("-o"); args.Add("StrictHostKeyChecking=yes"); }
            if (ConnectTimeout is TimeSpan connect && !Options.ContainsKey("ConnectTimeout"))
            {
                args.Add("-o");
                args.Add("ConnectTimeout=" + Math.Max(1, (int)Math.Ceiling(connect.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
            }
            if (!Options.ContainsKey("ServerAliveInterval") && ServerAliveInterval > TimeSpan.Zero)
            {
                args.Add("-o");
                args.Add("ServerAliveInterval=" + Math.Max(1, (int)Math.Ceiling(ServerAliveInterval.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
                if (!Options.ContainsKey("ServerAliveCountMax")) { args.Add("-o"); args.Add("ServerAliveCountMax=3"); }
            }
            if (target.Port is int port) { args.Add("-p"); args.Add(port.ToString(CultureInfo.InvariantCulture)); }
            if (KeyFilePath != null)
            {
                if (KeyFilePath.Any(char.IsControl)) throw new ArgumentException("The key file path holds a control character.");
                args.Add("-i");
                args.Add(KeyFilePath);
            }
            args.Add((target.UserName != null ? target.UserName + "@" : "") + target.Host);
            args.Add(remoteCommand);
            return new WorkerLaunch(SshPath ?? FindSsh(), args) { HostName = target.Display, Preamble = preamble };
        }

        /// <summary>ssh on PATH (ssh.exe on Windows, where OpenSSH ships in System32\OpenSSH).</summary>
        public static string FindSsh()
        {
            bool windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
            string name = windows ? "ssh.exe" : "ssh";
            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(new[] { Path.PathSeparator }, StringSplitOptions.RemoveEmptyEntries))
            {
                string candidate = Path.Combine(dir.Trim('"'), name);
                if (File.Exists(candidate)) return candidate;
            }
            if (windows)
            {
                string system = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.System), "OpenSSH", "ssh.exe");
                if (File.Exists(system)) return system;
            }
            throw new BrokenPoolException($"The OpenSSH client ({name}) is not on PATH; remote workers are started through it. Install OpenSSH or put ssh on PATH.");
        }
    }
}
