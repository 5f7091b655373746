using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Reflection;

namespace ProcessPool.Engine.Methods
{
    /// <summary>Finds the static method a payload names, with an error that says exactly what is wrong when it cannot.</summary>
    internal static class MethodResolver
    {
        private static readonly ConcurrentDictionary<string, Assembly> Loaded = new ConcurrentDictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase);

        public static Assembly LoadAssembly(string path)
        {
            if (string.IsNullOrEmpty(path)) throw new ArgumentException("No assembly path was given.");
            string full = Path.GetFullPath(Worker.FileCache.Resolve(path)); // a remote worker: the copy shipped to this host
            if (!File.Exists(full)) throw new FileNotFoundException($"The assembly '{full}' does not exist.", full);
            return Loaded.GetOrAdd(full, Assembly.LoadFrom);
        }

        /// <summary>Resolves <c>Namespace.Type::Method</c> to one public static method.</summary>
        public static MethodInfo Resolve(Assembly assembly, string spec)
        {
            int separator = spec.IndexOf("::", StringComparison.Ordinal);
            if (separator <= 0 || separator + 2 >= spec.Length)
                throw new ArgumentException($"'{spec}' is not a method name of the form 'Namespace.Type::Method'.");
            string typeName = spec.Substring(0, separator);
            string methodName = spec.Substring(separator + 2);

            Type? type = assembly.GetType(typeName, throwOnError: false, ignoreCase: false);
            if (type == null)
                throw new TypeLoadException($"The type '{typeName}' was not found in assembly '{assembly.GetName().Name}'.");

            var candidates = type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance)
                .Where(m => m.Name == methodName).ToArray();
            if (candidates.Length == 0)
                throw new MissingMethodException($"The type '{typeName}' has no public method named '{methodName}'.");
            var statics = candidates.Where(m => m.IsStatic).ToArray();
            if (statics.Length == 0)
                throw new ArgumentException($"'{spec}' is an instance method; a pool runs only static methods.");
            if (statics.Length > 1)
                throw new AmbiguousMatchException($"'{spec}' is ambiguous: it has {statics.Length} static overloads ({string.Join("; ", statics.Select(Describe))}). Give the one to run a distinct name.");
            var method = statics[0];
            if (method.ContainsGenericParameters)
                throw new ArgumentException($"'{spec}' is a generic method; a pool needs concrete parameter types.");
            return method;
        }

        public static string Describe(MethodInfo method) =>
            $"{method.Name}({string.Join(", ", method.GetParameters().Select(p => p.ParameterType.Name + " " + p.Name))})";
    }
}
