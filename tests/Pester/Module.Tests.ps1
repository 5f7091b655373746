# The module as a whole: its manifest, its licence and how it loads its dependencies.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-ProcessPoolModule
    $script:moduleDir = Split-Path (Get-Module ProcessPool).Path
    $script:methods = Get-TestMethodsPath

    # Runs a script in a child PowerShell (a host of its own, so what it loads does not touch this session) with the
    # module's manifest and the test methods assembly as arguments, and returns its output.
    function Invoke-Child([scriptblock] $Script) {
        $text = "& { $Script } '$((Join-Path $moduleDir 'ProcessPool.psd1').Replace("'", "''"))' '$($methods.Replace("'", "''"))'"
        Invoke-PowerShell '-NoProfile', '-NonInteractive', '-EncodedCommand', ([Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($text)))
    }
}

Describe 'ProcessPool module' {
    Context 'Manifest' {
        It 'ships the MIT licence beside the manifest and names it and the project in PSData' {
            $data = Import-PowerShellDataFile (Join-Path $moduleDir 'ProcessPool.psd1')
            $psData = $data.PrivateData.PSData
            $psData.ProjectUri | Should -Match '^https://'
            $psData.LicenseUri | Should -BeLike "$($psData.ProjectUri)/*"
            (Get-Content (Join-Path $moduleDir 'LICENSE') -TotalCount 1) | Should -Be 'MIT License'
            (Get-Content (Join-Path $RepoRoot 'LICENSE') -Raw) | Should -Be (Get-Content (Join-Path $moduleDir 'LICENSE') -Raw)
        }
    }

    Context 'Dependencies' -Skip:(-not $IsCoreCLR) {
        It 'keeps third-party assemblies out of the module folder, where PowerShell''s own probing would load them into the host''s context' {
            (Get-ChildItem $moduleDir -Filter *.dll).Name | Sort-Object | Should -Be 'ProcessPool.dll', 'ProcessPool.Engine.dll'
            Join-Path $moduleDir 'dependencies/System.Text.Json.dll' | Should -Exist
        }

        It 'runs a method map in a host that loaded its own System.Text.Json before the module' {
            $out = Invoke-Child {
                param($module, $methods)
                $ErrorActionPreference = 'Stop'
                $hostJson = [System.Text.Json.JsonDocument]::Parse('{"loaded":"first"}').RootElement.GetProperty('loaded').GetString()
                Import-Module $module
                $pool = New-ProcessPool -Size 1
                try { (1, 2 | Invoke-PoolMap -Pool $pool -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Double') -join ',' }
                finally { Remove-ProcessPool $pool -Force }
                $hostJson
            }
            $out | Should -Be '2,4', 'first'
        }

        It 'loads its own System.Text.Json beside the host''s, in the ProcessPool load context, where the host''s copy cannot serve it' {
            # PowerShell 7.6 has a System.Text.Json that serves the module, so this drives the resolver the way a host
            # with an older copy (PowerShell 7.2-7.5) reaches it: the default context could not bind the reference.
            $out = Invoke-Child {
                param($module, $methods)
                $ErrorActionPreference = 'Stop'
                $hostJson = [System.Text.Json.JsonSerializer].Assembly
                Import-Module $module
                $resolver = [ProcessPool.Commands.ModuleLifecycle].Assembly.GetType('ProcessPool.Commands.DependencyResolver')
                $ours = $resolver.GetMethod('Resolve', [Reflection.BindingFlags]'NonPublic, Static').Invoke($null, @([Reflection.AssemblyName]'System.Text.Json'))
                $context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($ours)
                $context.Name
                [object]::ReferenceEquals($ours, $hostJson)
                Split-Path (Split-Path $ours.Location) -Leaf
                [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($hostJson).Name
                # Both copies work, side by side.
                $oursDocument = $ours.GetType('System.Text.Json.JsonDocument')
                $oursDocument::Parse('[1,2]').RootElement.GetArrayLength()
                [System.Text.Json.JsonDocument]::Parse('[3,4,5]').RootElement.GetArrayLength()
                # What the resolver's copy needs in turn (System.Text.Encodings.Web) resolves too.
                $context.LoadFromAssemblyName([Reflection.AssemblyName]'System.Text.Encodings.Web').GetName().Name
            }
            $out | Should -Be 'ProcessPool', 'False', 'dependencies', 'Default', 2, 3, 'System.Text.Encodings.Web'
        }
    }
}
