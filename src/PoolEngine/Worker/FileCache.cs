using System;
using System.Collections.Concurrent;
using System.IO;
using System.Security.Cryptography;

namespace ProcessPool.Engine.Worker
{
    /// <summary>
    /// A remote worker's copies of the files its payloads name (see <see cref="ShippedFile"/>), kept per user and host in
    /// <c>&lt;cache&gt;/ProcessPool/files/&lt;sha256&gt;/&lt;name&gt;</c> (the cache directory is <c>%LOCALAPPDATA%</c>,
    /// <c>$XDG_CACHE_HOME</c> or <c>~/.cache</c>, as for the module's own assemblies). A copy is used only when its
    /// content matches the offered hash, and a directory appears only complete (written aside, then renamed), so
    /// workers that receive the same file at once do not see each other's half-written copy.
    /// <see cref="Resolve"/> maps the path the parent named to the local copy; it is empty in a local worker.
    /// </summary>
    public static class FileCache
    {
        private static readonly ConcurrentDictionary<string, string> Copies = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        private static readonly ConcurrentDictionary<string, string> Failures = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);

        /// <summary>The local copy of <paramref name="path"/> when the parent shipped it, else <paramref name="path"/>; throws when its shipping failed.</summary>
        public static string Resolve(string path)
        {
            if (Copies.TryGetValue(path, out var copy)) return copy;
            if (Failures.TryGetValue(path, out var why)) throw new FileNotFoundException($"'{path}' could not be brought to this host: {why}", path);
            return path;
        }

        /// <summary>The shipped files' cache of this user on this host.</summary>
        internal static string Root() => Path.Combine(ModuleCache(), "files");

        /// <summary>The module's cache directory of this user on this host: <c>&lt;cache&gt;/ProcessPool</c>.</summary>
        internal static string ModuleCache()
        {
            string? local = Environment.GetEnvironmentVariable("LOCALAPPDATA");
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = !string.IsNullOrEmpty(local) ? local! : !string.IsNullOrEmpty(xdg) ? xdg! : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "ProcessPool");
        }

        /// <summary>Uses the cached copy of an offered file if it is there and intact; false when the bytes must be sent.</summary>
        internal static bool TryUseCached(string path, string name, byte[] hash)
        {
            string file = CachedPath(name, hash);
            if (!File.Exists(file) || !Matches(File.ReadAllBytes(file), hash)) return false;
            Copies[path] = file;
            Failures.TryRemove(path, out _);
            return true;
        }

        /// <summary>Checks the bytes against the offered hash and stores them; a failure is remembered for <see cref="Resolve"/>.</summary>
        internal static void Store(string path, string name, byte[] hash, byte[] bytes)
        {
            try
            {
                if (!Matches(bytes, hash)) throw new InvalidDataException("the bytes received do not match their SHA-256.");
                string file = CachedPath(name, hash);
                string dir = Path.GetDirectoryName(file)!;
                if (!File.Exists(file) || !Matches(File.ReadAllBytes(file), hash))
                {
                    string parent = Path.GetDirectoryName(dir)!;
                    Directory.CreateDirectory(parent);
                    string aside = Path.Combine(parent, "." + ShippedFile.ToHex(hash) + "." + System.Diagnostics.Process.GetCurrentProcess().Id);
                    Directory.CreateDirectory(aside);
                    File.WriteAllBytes(Path.Combine(aside, name), bytes);
                    if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); // a damaged copy: replaced whole
                    try { Directory.Move(aside, dir); }
                    catch (IOException) when (File.Exists(file) && Matches(File.ReadAllBytes(file), hash))
                    {
                        Directory.Delete(aside, recursive: true); // another worker stored it first
                    }
                }
                Copies[path] = file;
                Failures.TryRemove(path, out _);
            }
            catch (Exception error) when (error is IOException || error is UnauthorizedAccessException || error is InvalidDataException)
            {
                Fail(path, error.Message);
            }
        }

        /// <summary>Remembers why a file could not be brought here, so the payload that names it fails with that reason.</summary>
        internal static void Fail(string path, string why)
        {
            Copies.TryRemove(path, out _);
            Failures[path] = why;
        }

        private static string CachedPath(string name, byte[] hash)
        {
            if (name.Length == 0 || name != Path.GetFileName(name) || name.StartsWith(".", StringComparison.Ordinal) || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
                throw new InvalidDataException($"the file name '{name}' is refused.");
            return Path.Combine(Root(), ShippedFile.ToHex(hash), name);
        }

        private static bool Matches(byte[] bytes, byte[] hash)
        {
            using var sha = SHA256.Create();
            byte[] actual = sha.ComputeHash(bytes);
            if (actual.Length != hash.Length) return false;
            int diff = 0;
            for (int i = 0; i < actual.Length; i++) diff |= actual[i] ^ hash[i];
            return diff == 0;
        }
    }
}
