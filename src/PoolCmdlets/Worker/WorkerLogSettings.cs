using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ProcessPool.Engine;
using ProcessPool.Engine.Worker;

namespace ProcessPool.Commands.Worker
{
    /// <summary>
    /// The settings file (<c>-SettingsFile</c>) local PowerShell workers start with on Linux and macOS, so that running
    /// the user's block as a command per item does not build log events that nobody receives. There, each time a command
    /// starts and stops, PowerShell builds a command-lifecycle event (command, context, user data, a formatted time),
    /// checking only the log level and the <c>Cmdlets</c> keyword; the syslog provider then drops it, because those
    /// events belong to the Analytic channel, which is off unless <c>LogChannels</c> names it. That was ~40% of a worker's
    /// time on a trivial item. The file is the worker PowerShell's own <c>powershell.config.json</c>, every setting kept,
    /// with <c>Cmdlets</c> left out of <c>LogKeywords</c>: on the syslog provider that keyword gates only the Analytic
    /// channel's lifecycle events (engine, command, provider, settings), so nothing that would have been logged is lost.
    /// Where LogChannels names anything but Operational, or the configuration cannot be read, workers start without a file.
    /// </summary>
    internal static class WorkerLogSettings
    {
        private const string ConfigFileName = "powershell.config.json";
        private const string Keywords = "LogKeywords";
        private const string Channels = "LogChannels";
        private const string Cmdlets = "Cmdlets";

        /// <summary>LogChannels values that leave the Analytic channel off.</summary>
        private static readonly string[] OffChannels = { "Operational", "default" };

        /// <summary>What PowerShell splits LogChannels and LogKeywords on.</summary>
        private static readonly char[] Separators = { ',', ' ', '|' };

        /// <summary>What PowerShell logs when LogKeywords is unset or "default": every keyword.</summary>
        private static readonly string[] AllKeywords = { "Runspace", "Pipeline", "Protocol", "Transport", "Host", Cmdlets, "Serializer", "Session", "ManagedPlugin" };

        /// <summary>
        /// Adds <c>-SettingsFile</c> to <paramref name="launch"/> for workers of the PowerShell whose home is
        /// <paramref name="powerShellHome"/>, and has the file written again before each start if something (a cache
        /// clean-up) removed it: PowerShell refuses to start with a settings file that does not exist.
        /// </summary>
        public static void AddTo(WorkerLaunch launch, string powerShellHome)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return; // ETW asks its listeners before building an event
            try
            {
                string config = Path.Combine(powerShellHome, ConfigFileName);
                string? adjusted = Adjust(File.Exists(config) ? File.ReadAllText(config) : null);
                if (adjusted == null) return;
                byte[] bytes = Encoding.UTF8.GetBytes(adjusted);
                string file = PathFor(bytes);
                Store(file, bytes);
                launch.Arguments.Add("-SettingsFile");
                launch.Arguments.Add(file);
                launch.BeforeStart = () => { try { Store(file, bytes); } catch (Exception) { /* the start reports it */ } };
            }
            catch (Exception)
            {
                // Only a saving: whatever went wrong, workers start as PowerShell would anyway, slower per item.
            }
        }

        /// <summary>
        /// <paramref name="configText"/> (null: no file) with Cmdlets left out of LogKeywords; null when it must stay as
        /// it is: the Analytic channel may be on, Cmdlets is not logged anyway, or the text is not a JSON object.
        /// </summary>
        internal static string? Adjust(string? configText)
        {
            JsonObject settings;
            try
            {
                // Duplicate names refused at parsing: System.Text.Json would otherwise throw only when the object is read.
                var options = new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false };
                if (configText == null) settings = new JsonObject();
                else if (JsonNode.Parse(configText, documentOptions: options) is JsonObject parsed) settings = parsed;
                else return null;
            }
            catch (JsonException)
            {
                return null; // PowerShell reports its own configuration's errors
            }

            // Only channels known to leave Analytic off: PowerShell also takes numbers and other separators.
            if (!TryNames(settings, Channels, out var channels) || !channels.All(name => OffChannels.Contains(name, StringComparer.OrdinalIgnoreCase))) return null;
            if (!TryNames(settings, Keywords, out var keywords)) return null;
            if (keywords.Length == 0 || keywords.Contains("default", StringComparer.OrdinalIgnoreCase)) keywords = AllKeywords;
            string[] kept = keywords.Where(name => !name.Equals(Cmdlets, StringComparison.OrdinalIgnoreCase)).ToArray();
            if (kept.Length == keywords.Length || kept.Length == 0) return null;

            if (KeyOf(settings, Keywords) is string existing) settings.Remove(existing);
            settings[Keywords] = string.Join(",", kept);
            return settings.ToJsonString();
        }

        /// <summary>The names a setting lists (none when it is absent); false when it is not a string.</summary>
        private static bool TryNames(JsonObject settings, string name, out string[] names)
        {
            names = Array.Empty<string>();
            var node = KeyOf(settings, name) is string key ? settings[key] : null;
            if (node == null) return true;
            if (node is not JsonValue value || !value.TryGetValue(out string? text)) return false;
            names = text!.Split(Separators, StringSplitOptions.RemoveEmptyEntries).Select(part => part.Trim()).Where(part => part.Length > 0).ToArray();
            return true;
        }

        /// <summary>The setting's name as the file spells it (PowerShell matches names in any case), or null.</summary>
        private static string? KeyOf(JsonObject settings, string name) =>
            settings.Select(pair => pair.Key).FirstOrDefault(key => key.Equals(name, StringComparison.OrdinalIgnoreCase));

        /// <summary>Where the file of this content lives: under the module's cache directory, named by its hash, so an existing file with the name is this content.</summary>
        private static string PathFor(byte[] bytes)
        {
            string name;
            using (var sha = SHA256.Create()) name = "powershell.config." + ShippedFile.ToHex(sha.ComputeHash(bytes)).Substring(0, 16) + ".json";
            return Path.Combine(Path.GetFullPath(Path.Combine(FileCache.ModuleCache(), "settings")), name);
        }

        /// <summary>Writes <paramref name="file"/> unless it exists, aside and then renamed, so a worker never reads half of it.</summary>
        private static void Store(string file, byte[] bytes)
        {
            if (File.Exists(file)) return;
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            string aside = file + "." + Guid.NewGuid().ToString("N");
            try
            {
                File.WriteAllBytes(aside, bytes);
                File.Move(aside, file);
            }
            catch (IOException) when (File.Exists(file))
            {
                // another session stored it first
            }
            finally
            {
                if (File.Exists(aside)) File.Delete(aside);
            }
        }
    }
}
