using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace ProcessPool.Commands.Worker
{
    /// <summary>
    /// The process state a map runs with, inside a worker: environment variables and the process's current directory.
    /// The rule: each map's items start from the caller's environment as it was when the map started, with what the
    /// pool's setup set on top (its initialization script may extend PATH, say); after each chunk the worker goes back
    /// to its own environment and directory, so nothing an item set, removed or entered reaches another map.
    /// Worker main thread only.
    /// </summary>
    internal sealed class MapEnvironment
    {
        /// <summary>Variables the engine gives a worker for its own use: a map neither sends nor changes them.</summary>
        internal static readonly string[] WorkerOwned = { ProcessPool.Engine.Worker.ParentWatch.ParentPidVariable, RemoteWorkerVariable };

        /// <summary>Set to 1 by the remote bootstrap: a worker on another host keeps its own environment (the caller's PATH or HOME mean nothing there).</summary>
        internal const string RemoteWorkerVariable = "PROCESSPOOL_REMOTE_WORKER";

        internal static readonly bool IsRemoteWorker = Environment.GetEnvironmentVariable(RemoteWorkerVariable) == "1";

        private static readonly StringComparer NameComparer =
            RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

        private Dictionary<string, string> _baseline = Capture();
        private Dictionary<string, string?> _setupChanges = new Dictionary<string, string?>(NameComparer);
        private string _baselineDirectory = Directory.GetCurrentDirectory();
        private readonly List<KeyValuePair<string, string>> _requiredPathEntries = new List<KeyValuePair<string, string>>();

        /// <summary>An entry every map's <paramref name="variable"/> (a path list such as PSModulePath) keeps, whatever the caller's holds.</summary>
        public void RequirePathEntry(string variable, string entry) => _requiredPathEntries.Add(new KeyValuePair<string, string>(variable, entry));

        /// <summary><paramref name="list"/> (entries separated by the platform's path separator) with <paramref name="entry"/> at its end unless it holds it.</summary>
        public static string WithPathEntry(string? list, string entry)
        {
            if (string.IsNullOrEmpty(list)) return entry;
            foreach (string existing in list!.Split(Path.PathSeparator))
                if (string.Equals(existing.TrimEnd('/', '\\'), entry.TrimEnd('/', '\\'), StringComparison.OrdinalIgnoreCase)) return list;
            return list + Path.PathSeparator + entry;
        }

        /// <summary>Call before the pool's setup runs: what the setup then changes is kept for every map.</summary>
        public void BeforeSetup() => _baseline = Capture();

        /// <summary>Call after the pool's setup: records its changes and the worker's own environment and directory.</summary>
        public void AfterSetup()
        {
            var now = Capture();
            _setupChanges = new Dictionary<string, string?>(NameComparer);
            foreach (var pair in now)
                if (!_baseline.TryGetValue(pair.Key, out var before) || before != pair.Value) _setupChanges[pair.Key] = pair.Value;
            foreach (var name in _baseline.Keys)
                if (!now.ContainsKey(name)) _setupChanges[name] = null;
            _baseline = now;
            _baselineDirectory = Directory.GetCurrentDirectory();
        }

        /// <summary>The environment a map runs with: the caller's, with the setup's changes on top; null (the worker's own) when the caller sent none or the worker runs on another host.</summary>
        public Dictionary<string, string>? ForMap(IDictionary? caller)
        {
            if (caller == null || IsRemoteWorker) return null;
            var result = new Dictionary<string, string>(NameComparer);
            foreach (DictionaryEntry entry in caller)
            {
                string name = Wire.Text(entry.Key);
                if (name.Length > 0 && entry.Value != null) result[name] = Wire.Text(entry.Value);
            }
            foreach (var change in _setupChanges)
            {
                if (change.Value == null) result.Remove(change.Key);
                else result[change.Key] = change.Value;
            }
            foreach (var required in _requiredPathEntries)
                result[required.Key] = WithPathEntry(result.TryGetValue(required.Key, out var list) ? list : null, required.Value);
            return result;
        }

        /// <summary>Makes the process environment equal <paramref name="target"/> (the worker's own variables excepted).</summary>
        public static void Enter(Dictionary<string, string>? target)
        {
            if (target != null) Apply(target);
        }

        /// <summary>Back to the worker's own environment and current directory, after a chunk.</summary>
        public void Leave()
        {
            Apply(_baseline);
            try
            {
                if (!string.Equals(Directory.GetCurrentDirectory(), _baselineDirectory, StringComparison.Ordinal))
                    Directory.SetCurrentDirectory(_baselineDirectory);
            }
            catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"ProcessPool worker: cannot return to '{_baselineDirectory}': {error.Message}");
            }
        }

        private static void Apply(Dictionary<string, string> target)
        {
            var current = Capture();
            foreach (var name in current.Keys)
                if (!target.ContainsKey(name) && !IsWorkerOwned(name)) Environment.SetEnvironmentVariable(name, null);
            foreach (var pair in target)
            {
                if (IsWorkerOwned(pair.Key)) continue;
                if (!current.TryGetValue(pair.Key, out var value) || value != pair.Value) Environment.SetEnvironmentVariable(pair.Key, pair.Value);
            }
        }

        private static bool IsWorkerOwned(string name)
        {
            foreach (string owned in WorkerOwned)
                if (NameComparer.Equals(owned, name)) return true;
            return false;
        }

        /// <summary>The process environment now.</summary>
        public static Dictionary<string, string> Capture()
        {
            var result = new Dictionary<string, string>(NameComparer);
            foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
                if (entry.Key is string name && entry.Value is string value) result[name] = value;
            return result;
        }

        /// <summary>The caller's environment as a map sends it: every variable but the worker's own.</summary>
        public static Hashtable CaptureForMap()
        {
            var result = new Hashtable(NameComparer);
            foreach (var pair in Capture())
                if (!IsWorkerOwned(pair.Key)) result[pair.Key] = pair.Value;
            return result;
        }
    }
}
