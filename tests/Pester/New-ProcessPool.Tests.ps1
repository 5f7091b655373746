BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-ProcessPoolModule
    $script:methods = Get-TestMethodsPath
    $script:pools = [System.Collections.Generic.List[object]]::new()
    function New-Tracked([hashtable] $Parameters) {
        $pool = New-ProcessPool @Parameters
        $script:pools.Add($pool)
        $pool
    }
}

AfterAll {
    foreach ($pool in $script:pools) { Remove-TestPool $pool }
}

Describe 'New-ProcessPool' {
    Context 'Size' {
        It 'starts the given number of workers' {
            $pool = New-Tracked @{ Size = 2 }
            Wait-Until { $pool.Idle -eq 2 } | Should -BeTrue
            $pool.Size | Should -Be 2
            @($pool.WorkerProcessIds).Count | Should -Be 2
        }

        It 'defaults to one worker per processor' {
            (Get-Command New-ProcessPool).Parameters['Size'].Attributes.Where({ $_ -is [System.Management.Automation.ValidateRangeAttribute] }).MinRange | Should -Be 1
            $pool = New-Tracked @{}
            $pool.Size | Should -Be ([Environment]::ProcessorCount)
        }

        It 'takes -ThrottleLimit as another name for -Size' {
            $pool = New-Tracked @{ ThrottleLimit = 1 }
            $pool.Size | Should -Be 1
        }

        It 'refuses a size below one' {
            { New-ProcessPool -Size 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,ProcessPool.Commands.NewProcessPoolCommand'
        }
    }

    Context 'Worker PowerShell' {
        AfterEach { Remove-Item Env:PROCESSPOOL_POWERSHELL -ErrorAction SilentlyContinue }

        It 'runs workers in the PowerShell of the caller, also when that runs as a .NET tool' {
            $pool = New-Tracked @{ Size = 1 }
            $worker = 1 | Invoke-PoolMap -Pool $pool { [pscustomobject]@{ Version = "$($PSVersionTable.PSVersion)"; Edition = $PSVersionTable.PSEdition; Home = $PSHOME } }
            $worker.Version | Should -Be "$($PSVersionTable.PSVersion)"
            $worker.Edition | Should -Be $PSVersionTable.PSEdition
            $worker.Home | Should -Be $PSHOME
        }

        It 'starts the PowerShell that $env:PROCESSPOOL_POWERSHELL names' {
            $env:PROCESSPOOL_POWERSHELL = @('pwsh', 'pwsh.exe', 'powershell.exe') | ForEach-Object { Join-Path $PSHOME $_ } | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
            $pool = New-Tracked @{ Size = 1 }
            $path = 1 | Invoke-PoolMap -Pool $pool { (Get-Process -Id $PID).Path }
            (Get-Item -LiteralPath $path).FullName | Should -Be (Get-Item -LiteralPath $env:PROCESSPOOL_POWERSHELL).FullName
        }

        It 'starts workers with tiered PGO off, unless the caller sets it; items see the caller''s environment' -Skip:(-not (Test-Path -LiteralPath /proc/self/environ)) {
            $saved = $env:DOTNET_TieredPGO, $env:COMPlus_TieredPGO
            Remove-Item Env:DOTNET_TieredPGO, Env:COMPlus_TieredPGO -ErrorAction SilentlyContinue
            try {
                $pool = New-Tracked @{ Size = 1 }
                $seen = 1 | Invoke-PoolMap -Pool $pool { "[$env:DOTNET_TieredPGO]" }
                [IO.File]::ReadAllText("/proc/$(@($pool.WorkerProcessIds)[0])/environ").Split([char]0) | Should -Contain 'DOTNET_TieredPGO=0'
                $seen | Should -Be '[]'

                $env:DOTNET_TieredPGO = '1'
                $own = New-Tracked @{ Size = 1 }
                Wait-Until { @($own.WorkerProcessIds).Count -eq 1 } | Should -BeTrue
                [IO.File]::ReadAllText("/proc/$(@($own.WorkerProcessIds)[0])/environ").Split([char]0) | Should -Contain 'DOTNET_TieredPGO=1'
            }
            finally {
                $env:DOTNET_TieredPGO, $env:COMPlus_TieredPGO = $saved
            }
        }

        It 'starts workers that do not rewrite PowerShell''s start-up profile when they end, unless the caller says so' -Skip:$IsWindows {
            # See ScriptWorkerHost.RuntimeSettings: workers ending together corrupted the shared profile.
            $names = 'XDG_CACHE_HOME', 'DOTNET_MultiCoreJitNoProfileGather', 'COMPlus_MultiCoreJitNoProfileGather', 'DOTNET_MultiCoreJitMinNumCpus'
            $saved = foreach ($name in $names) { [Environment]::GetEnvironmentVariable($name) }
            $profiles = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'cache/powershell')
            $env:XDG_CACHE_HOME = Split-Path $profiles.FullName # the workers' cache folder; this process chose its own at start
            $env:DOTNET_MultiCoreJitNoProfileGather = $env:COMPlus_MultiCoreJitNoProfileGather = $null
            $env:DOTNET_MultiCoreJitMinNumCpus = '1' # the runtime keeps no profile on a single processor otherwise
            try {
                function Invoke-AndRemovePool([hashtable] $Parameters) {
                    $pool = New-ProcessPool -Size 2 @Parameters
                    $script:pools.Add($pool)
                    $seen = 1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { Get-ChildItem -LiteralPath $PSHOME | Out-Null; $global:settingSeen }
                    $ids = $pool.GetAllStartedProcessIds()
                    Remove-ProcessPool -Pool $pool # not -Force: the workers end on their own, as they would write the profile then
                    Wait-ProcessGone $ids | Should -BeNullOrEmpty
                    $seen
                }
                # The pool's setup runs in the worker's own environment: the setting is gone by then.
                Invoke-AndRemovePool @{ InitializationScript = { $global:settingSeen = "[$env:DOTNET_MultiCoreJitNoProfileGather]" } } | Should -Be (@('[]') * 4)
                Get-ChildItem -LiteralPath $profiles.FullName -Filter 'StartupProfileData-*' | Should -BeNullOrEmpty

                # The caller's own value wins, and then the workers do write it: the check above can fail.
                $env:DOTNET_MultiCoreJitNoProfileGather = '0'
                $null = Invoke-AndRemovePool @{}
                Get-ChildItem -LiteralPath $profiles.FullName -Filter 'StartupProfileData-*' | Should -Not -BeNullOrEmpty
            }
            finally {
                for ($i = 0; $i -lt $names.Count; $i++) { [Environment]::SetEnvironmentVariable($names[$i], $saved[$i]) }
            }
        }

        It 'starts workers on Linux with a settings file that leaves out the command events nobody receives, and writes it again if it goes' -Skip:(-not (Test-Path -LiteralPath /proc/self/cmdline) -or ((Test-Path -LiteralPath "$PSHOME/powershell.config.json") -and (Get-Content -LiteralPath "$PSHOME/powershell.config.json" -Raw) -match 'Analytic')) {
            $saved = $env:XDG_CACHE_HOME
            $env:XDG_CACHE_HOME = Join-Path $TestDrive 'cache'
            $pool = $null
            try {
                $pool = New-Tracked @{ Size = 1 }
                Wait-Until { @($pool.WorkerProcessIds).Count -eq 1 } | Should -BeTrue
                $first = @($pool.WorkerProcessIds)[0]
                $arguments = [IO.File]::ReadAllText("/proc/$first/cmdline").Split([char]0)
                $arguments | Should -Contain '-SettingsFile'
                $file = $arguments[[array]::IndexOf($arguments, '-SettingsFile') + 1]
                $file | Should -BeLike "$env:XDG_CACHE_HOME*"
                $keywords = (Get-Content -LiteralPath $file -Raw | ConvertFrom-Json).LogKeywords -split ','
                $keywords | Should -Contain 'Runspace'
                $keywords | Should -Not -Contain 'Cmdlets'
                1 | Invoke-PoolMap -Pool $pool { $_ + 1 } | Should -Be 2

                # PowerShell does not start with a settings file that is gone: the replacement worker must find it again.
                Remove-Item -LiteralPath (Split-Path $file) -Recurse -Force
                Stop-Process -Id $first -Force
                2 | Invoke-PoolMap -Pool $pool { $_ + 1 } | Should -Be 3
                @($pool.WorkerProcessIds) | Should -Not -Contain $first
                Test-Path -LiteralPath $file | Should -BeTrue
            }
            finally {
                if ($pool) { Remove-TestPool $pool }
                $env:XDG_CACHE_HOME = $saved
            }
        }

        It 'keeps every setting of the worker''s own configuration, and leaves it alone where the Analytic channel may be on' {
            $type = [ProcessPool.Commands.ProcessPoolHandle].Assembly.GetType('ProcessPool.Commands.Worker.WorkerLogSettings')
            $adjust = $type.GetMethod('Adjust', [Reflection.BindingFlags]'NonPublic, Static')
            $all = 'Runspace,Pipeline,Protocol,Transport,Host,Serializer,Session,ManagedPlugin'

            ($adjust.Invoke($null, @($null)) | ConvertFrom-Json).LogKeywords | Should -Be $all
            $kept = $adjust.Invoke($null, @('{ "ExperimentalFeatures": ["PSFeedbackProvider"], // a comment
                "Microsoft.PowerShell:ExecutionPolicy": "RemoteSigned", "LogChannels": "Operational" }')) | ConvertFrom-Json
            $kept.ExperimentalFeatures | Should -Be 'PSFeedbackProvider'
            $kept.'Microsoft.PowerShell:ExecutionPolicy' | Should -Be 'RemoteSigned'
            $kept.LogChannels | Should -Be 'Operational'
            $kept.LogKeywords | Should -Be $all
            ($adjust.Invoke($null, @('{"LogKeywords": "Runspace, Cmdlets"}')) | ConvertFrom-Json).LogKeywords | Should -Be 'Runspace'
            ($adjust.Invoke($null, @('{"LogKeywords": "Runspace|Cmdlets Pipeline"}')) | ConvertFrom-Json).LogKeywords | Should -Be 'Runspace,Pipeline'
            $adjust.Invoke($null, @('{"logkeywords": "default"}')) | Should -Be ('{"LogKeywords":"' + $all + '"}')

            foreach ($channels in 'Operational,Analytic', 'Operational|Analytic', 'Operational Analytic', 'Operational,17') {
                $adjust.Invoke($null, @("{""LogChannels"": ""$channels""}")) | Should -BeNullOrEmpty -Because "LogChannels '$channels' may turn the Analytic channel on"
            }
            $adjust.Invoke($null, @('{"LogKeywords": "Runspace,Pipeline"}')) | Should -BeNullOrEmpty
            $adjust.Invoke($null, @('{"LogKeywords": "Cmdlets"}')) | Should -BeNullOrEmpty
            $adjust.Invoke($null, @('{"LogKeywords": 5}')) | Should -BeNullOrEmpty
            $adjust.Invoke($null, @('{"LogKeywords": "Runspace", "LogKeywords": "Cmdlets"}')) | Should -BeNullOrEmpty
            $adjust.Invoke($null, @('[1]')) | Should -BeNullOrEmpty
            $adjust.Invoke($null, @('not json')) | Should -BeNullOrEmpty
        }

        It 'fails with PoolBroken, saying how to name a PowerShell, when $env:PROCESSPOOL_POWERSHELL points nowhere' {
            $env:PROCESSPOOL_POWERSHELL = Join-Path ([IO.Path]::GetTempPath()) ([guid]::NewGuid().ToString('N'))
            $failure = { New-ProcessPool -Size 1 } | Should -Throw -ErrorId 'PoolBroken,ProcessPool.Commands.NewProcessPoolCommand' -PassThru
            $failure.Exception.Message | Should -Match 'PROCESSPOOL_POWERSHELL'
        }
    }

    Context 'Name' {
        It 'registers the pool under its name' {
            $name = 'named-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
            $pool = New-Tracked @{ Size = 1; Name = $name }
            $pool.Name | Should -Be $name
            (Get-ProcessPool -Name $name).Name | Should -Be $name
        }

        It 'names a pool without -Name automatically' {
            $pool = New-Tracked @{ Size = 1 }
            $pool.Name | Should -Match '^pool\d+$'
        }

        It 'fails with PoolNameInUse for a name a live pool has' {
            $pool = New-Tracked @{ Size = 1 }
            { New-ProcessPool -Size 1 -Name $pool.Name } | Should -Throw -ErrorId 'PoolNameInUse,ProcessPool.Commands.NewProcessPoolCommand'
        }

        It 'refuses the names of the default pools with PoolNameReserved and leaves the default pool alone' {
            $null = 1 | Invoke-PoolMap { $_ }
            $default = Get-ProcessPool -Name Default
            foreach ($name in 'Default', 'default', 'Default-3') {
                { New-ProcessPool -Size 1 -Name $name } | Should -Throw -ErrorId 'PoolNameReserved,ProcessPool.Commands.NewProcessPoolCommand'
            }
            $default.State | Should -Be 'Running'
            Get-ProcessPool -Name Default | Should -Be $default
            $pool = New-Tracked @{ Size = 1; Name = 'Default-pool-of-mine' }
            $pool.Name | Should -Be 'Default-pool-of-mine' -Because 'only Default and Default-<number> are reserved'
        }

        It 'shows name, state, size, busy and idle workers and tasks completed in its default view' {
            $pool = New-Tracked @{ Size = 1 }
            $null = 1..3 | Invoke-PoolMap -Pool $pool { $_ }
            # The counters follow the worker's end-of-chunk report, which may land just after the results.
            Wait-Until { $pool.TasksCompleted -eq 3 -and $pool.Busy -eq 0 -and $pool.Idle -eq 1 } | Should -BeTrue
            $view = ($pool | Out-String).Trim() -split "`n"
            $view[0] | Should -Match 'Name\s+State\s+Size\s+Busy\s+Idle\s+Starting\s+TasksCompleted\s+ActiveMaps'
            $view[-1] | Should -Match ([regex]::Escape($pool.Name) + '\s+Running\s+1\s+0\s+1\s+0\s+3\b')
        }
    }

    Context 'MaxTasksPerWorker' {
        It 'replaces a worker after it ran its number of items' {
            $pool = New-Tracked @{ Size = 1; MaxTasksPerWorker = 3 }
            $ids = 1..9 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { $PID }
            @($ids | Sort-Object -Unique).Count | Should -Be 3
            ($ids | Group-Object | ForEach-Object Count | Sort-Object -Unique) | Should -Be 3
            $pool.WorkersRecycled | Should -BeGreaterOrEqual 2
        }
    }

    Context 'MaxWorkerMemoryMB' {
        It 'replaces a worker whose working set passed the ceiling' {
            $pool = New-Tracked @{ Size = 1; MaxWorkerMemoryMB = 1 } # every PowerShell is bigger than 1 MB
            # Checked between chunks; a worker may already hold its next chunk (two, for chunks of a millisecond or more).
            $ids = 1..8 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { Start-Sleep -Milliseconds 20; $PID }
            @($ids | Sort-Object -Unique).Count | Should -BeGreaterOrEqual 3
            $pool.WorkersRecycled | Should -BeGreaterOrEqual 2
            $pool.MaxWorkerMemoryMB | Should -Be 1
        }
    }

    Context 'IdleTimeoutSeconds' {
        It 'lets idle workers exit and starts them again when work arrives' {
            $pool = New-Tracked @{ Size = 1; IdleTimeoutSeconds = 1 }
            $first = $pool.WorkerProcessIds
            Wait-ProcessGone $first | Should -BeNullOrEmpty
            1 | Invoke-PoolMap -Pool $pool { $PID } | Should -Not -BeIn $first
        }
    }

    Context 'ImportModule' {
        It 'imports the modules into every worker' {
            $dir = Join-Path $TestDrive 'PoolTestModule'
            $null = New-Item -ItemType Directory -Path $dir -Force
            Set-Content -LiteralPath (Join-Path $dir 'PoolTestModule.psm1') -Value 'function Get-PoolTestValue { "from module $args" }'
            $pool = New-Tracked @{ Size = 1; ImportModule = (Join-Path $dir 'PoolTestModule.psm1') }
            1 | Invoke-PoolMap -Pool $pool { Get-PoolTestValue $_ } | Should -Be 'from module 1'
        }

        It 'resolves a relative module path against the current location, not the process''s directory' {
            $dir = Join-Path $TestDrive 'Greet'
            $null = New-Item -ItemType Directory -Path $dir -Force
            Set-Content -LiteralPath (Join-Path $dir 'Greet.psm1') -Value 'function Get-Greeting { "hello $args" }'
            Push-Location $TestDrive
            try { $pool = New-Tracked @{ Size = 1; ImportModule = './Greet' } }
            finally { Pop-Location }
            1 | Invoke-PoolMap -Pool $pool { Get-Greeting $_ } | Should -Be 'hello 1'
        }

        It 'fails with PoolBroken when a module cannot be imported, and leaves no worker behind' {
            $before = @(Get-Process -Name pwsh, powershell -ErrorAction SilentlyContinue).Id
            { New-ProcessPool -Size 1 -ImportModule 'No.Such.Module.Anywhere' } | Should -Throw -ErrorId 'PoolBroken,ProcessPool.Commands.NewProcessPoolCommand'
            $new = @(Get-Process -Name pwsh, powershell -ErrorAction SilentlyContinue | Where-Object { $_.Id -notin $before -and $_.Parent.Id -eq $PID }).Id
            if ($new) { Wait-ProcessGone $new | Should -BeNullOrEmpty }
        }
    }

    Context 'Function' {
        It 'copies the named functions of the caller into every worker' {
            function Get-Doubled($x) { 2 * $x }
            $pool = New-Tracked @{ Size = 1; Function = 'Get-Doubled' }
            1..3 | Invoke-PoolMap -Pool $pool { Get-Doubled $_ } | Should -Be 2, 4, 6
        }

        It 'copies functions matching a wildcard' {
            function Use-PoolA { 'a' }
            function Use-PoolB { 'b' }
            $pool = New-Tracked @{ Size = 1; Function = 'Use-Pool*' }
            1 | Invoke-PoolMap -Pool $pool { (Use-PoolA) + (Use-PoolB) } | Should -Be 'ab'
        }

        It 'fails with PoolFunctionNotFound for a function that does not exist' {
            { New-ProcessPool -Size 1 -Function 'No-SuchFunction' } | Should -Throw -ErrorId 'PoolFunctionNotFound,ProcessPool.Commands.NewProcessPoolCommand'
        }
    }

    Context 'Variable' {
        It 'copies the named variables of the caller into every worker' {
            $settings = @{ Depth = 3; Name = 'cfg' }
            $pool = New-Tracked @{ Size = 1; Variable = 'settings' }
            1 | Invoke-PoolMap -Pool $pool { "$($settings.Name) $($settings.Depth)" } | Should -Be 'cfg 3'
        }

        It 'copies variables matching a wildcard' {
            $poolVarOne = 1; $poolVarTwo = 2
            $pool = New-Tracked @{ Size = 1; Variable = 'poolVar*' }
            1 | Invoke-PoolMap -Pool $pool { $poolVarOne + $poolVarTwo } | Should -Be 3
        }

        It 'keeps the pool''s variables for every invocation even if one changes them' {
            $counter = 10
            $pool = New-Tracked @{ Size = 1; Variable = 'counter' }
            $null = 1 | Invoke-PoolMap -Pool $pool { $global:counter = 99 }
            1 | Invoke-PoolMap -Pool $pool { $counter } | Should -Be 10
        }

        It 'fails with PoolVariableNotFound for a variable that does not exist' {
            { New-ProcessPool -Size 1 -Variable 'noSuchVariableAnywhere' } | Should -Throw -ErrorId 'PoolVariableNotFound,ProcessPool.Commands.NewProcessPoolCommand'
        }
    }

    Context 'InitializationScript and ArgumentList' {
        It 'runs the script once per worker with the arguments, and what it defines is there for every map' {
            $log = Join-Path $TestDrive 'init.log'
            $pool = New-Tracked @{ Size = 2; InitializationScript = { param($prefix, $path) Add-Content -LiteralPath $path -Value $PID; $global:greeting = "$prefix from init"; function Get-Greeting { $global:greeting } }; ArgumentList = 'hello', $log }
            Wait-Until { $pool.Idle -eq 2 } | Should -BeTrue
            1..4 | Invoke-PoolMap -Pool $pool { Get-Greeting } | Sort-Object -Unique | Should -Be 'hello from init'
            1 | Invoke-PoolMap -Pool $pool { Get-Greeting } | Should -Be 'hello from init'
            (Get-Content $log | Sort-Object) | Should -Be ($pool.WorkerProcessIds | ForEach-Object { "$_" } | Sort-Object)
        }

        It 'fails with PoolBroken when the script throws' {
            { New-ProcessPool -Size 1 -InitializationScript { throw 'cannot start' } } | Should -Throw -ErrorId 'PoolBroken,ProcessPool.Commands.NewProcessPoolCommand'
        }

        It 'runs items even when the script defines a function named like the command a worker runs them with' {
            $pool = New-Tracked @{ Size = 1; InitializationScript = { function global:Invoke-Command { throw 'the function ran' } } }
            1..3 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { $_ * 2 } | Should -Be 2, 4, 6
            1 | Invoke-PoolMap -Pool $pool { Invoke-Command { 'mine' } } -ErrorVariable failed -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            "$($failed[0])" | Should -Match 'the function ran'
        }
    }

    Context 'FinalizationScript' {
        BeforeAll {
            # Every worker writes final-<pid> into the directory the initialization script was given.
            $script:finalDir = Join-Path $TestDrive 'final'
            $null = New-Item -ItemType Directory -Path $finalDir
            $script:marking = @{
                InitializationScript = { param($dir) $global:finalDir = $dir }
                ArgumentList         = $finalDir
                FinalizationScript   = { Set-Content -LiteralPath (Join-Path $global:finalDir "final-$PID") -Value 'done' }
            }
            function Test-Finalized([int] $Id) { Test-Path -LiteralPath (Join-Path $finalDir "final-$Id") }
            # The waiting warnings of a pool, as the next command that uses it writes them.
            function Get-PoolWarning($Pool) {
                $warnings = $null
                $null = Get-ProcessPool -Name $Pool.Name -WarningVariable warnings -WarningAction SilentlyContinue
                @($warnings)
            }
        }

        It 'runs in every worker when the pool is removed' {
            $pool = New-Tracked (@{ Size = 2 } + $marking)
            Wait-Until { $pool.Idle -eq 2 } | Should -BeTrue
            $ids = $pool.WorkerProcessIds
            Remove-ProcessPool $pool -WarningVariable warnings
            $warnings | Should -BeNullOrEmpty
            foreach ($id in $ids) { Test-Finalized $id | Should -BeTrue }
        }

        It 'runs when an idle worker is retired' {
            $pool = New-Tracked (@{ Size = 1; IdleTimeoutSeconds = 0.5 } + $marking)
            $id = $pool.WorkerProcessIds[0]
            Wait-Until { Test-Finalized $id } | Should -BeTrue
            Wait-ProcessGone $id | Should -BeNullOrEmpty
        }

        It 'runs when a worker reaches its task limit' {
            $pool = New-Tracked (@{ Size = 1; MaxTasksPerWorker = 1 } + $marking)
            $ids = 1..2 | Invoke-PoolMap -Pool $pool -ChunkSize 1 { $PID }
            @($ids | Sort-Object -Unique).Count | Should -Be 2
            foreach ($id in $ids) { Wait-Until { Test-Finalized $id } | Should -BeTrue }
        }

        It 'sees what the initialization script defined' {
            $pool = New-Tracked @{ Size = 1; InitializationScript = { $global:note = Join-Path ([IO.Path]::GetTempPath()) "pp-note-$PID" }; FinalizationScript = { Set-Content -LiteralPath $global:note -Value 'bye' } }
            $id = $pool.WorkerProcessIds[0]
            $note = Join-Path ([IO.Path]::GetTempPath()) "pp-note-$id"
            try {
                Remove-ProcessPool $pool
                Get-Content -LiteralPath $note | Should -Be 'bye'
            }
            finally { Remove-Item -LiteralPath $note -ErrorAction SilentlyContinue }
        }

        It 'is a warning naming the worker when it throws, written by Remove-ProcessPool' {
            $pool = New-Tracked @{ Size = 1; FinalizationScript = { throw 'cannot flush' } }
            $id = $pool.WorkerProcessIds[0]
            Remove-ProcessPool $pool -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings.Count | Should -Be 1
            $warnings[0].Message | Should -Match "worker \d+ \(pid $id\)"
            $warnings[0].Message | Should -Match 'cannot flush'
            Wait-ProcessGone $id | Should -BeNullOrEmpty
        }

        It 'is a warning when it writes an error' {
            $pool = New-Tracked @{ Size = 1; FinalizationScript = { Write-Error 'half done' } }
            Remove-ProcessPool $pool -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings.Count | Should -Be 1
            $warnings[0].Message | Should -Match 'half done'
        }

        It 'is a warning, written once by the next command that uses the pool, when it fails on an idle retirement' {
            $pool = New-Tracked @{ Size = 1; IdleTimeoutSeconds = 0.5; FinalizationScript = { throw 'idle failure' } }
            $id = $pool.WorkerProcessIds[0]
            $script:seen = @()
            Wait-Until { $script:seen += Get-PoolWarning $pool; $script:seen.Count -gt 0 } | Should -BeTrue
            $seen.Count | Should -Be 1
            $seen[0].Message | Should -Match "\(pid $id\).*idle failure"
            Get-PoolWarning $pool | Should -BeNullOrEmpty
            1 | Invoke-PoolMap -Pool $pool { $_ } | Should -Be 1
        }
    }

    Context 'ShutdownTimeoutSeconds' {
        It 'kills a worker whose finalization script hangs, with a warning, and never waits longer' {
            $pool = New-Tracked @{ Size = 1; ShutdownTimeoutSeconds = 0.5; FinalizationScript = { Start-Sleep -Seconds 600 } }
            $pool.ShutdownTimeoutSeconds | Should -Be 0.5
            $id = $pool.WorkerProcessIds[0]
            $clock = [Diagnostics.Stopwatch]::StartNew()
            Remove-ProcessPool $pool -WarningVariable warnings -WarningAction SilentlyContinue
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 60
            $warnings.Count | Should -Be 1
            $warnings[0].Message | Should -Match "\(pid $id\) did not exit within 0.5 s"
            Wait-ProcessGone $id | Should -BeNullOrEmpty
        }

        It 'defaults to five seconds' {
            $pool = New-Tracked @{ Size = 1 }
            $pool.ShutdownTimeoutSeconds | Should -Be 5
        }
    }

    Context 'FinalizerMethod and FinalizerArgumentList' {
        It 'calls the finalizer method with the arguments when the pool is removed' {
            $dir = Join-Path $TestDrive 'method-final'
            $null = New-Item -ItemType Directory -Path $dir
            $pool = New-Tracked @{ Size = 1; AssemblyPath = $methods; FinalizerMethod = 'ProcessPool.TestMethods.Payloads::WriteMarker'; FinalizerArgumentList = $dir }
            1 | Invoke-PoolMap -Pool $pool -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Double' | Should -Be 2
            $id = $pool.WorkerProcessIds[0]
            Remove-ProcessPool $pool
            Test-Path -LiteralPath (Join-Path $dir "finalized-$id") | Should -BeTrue
        }

        It 'is a warning naming the worker when the finalizer method throws' {
            $pool = New-Tracked @{ Size = 1; AssemblyPath = $methods; InitializerMethod = 'ProcessPool.TestMethods.Payloads::Init'; InitializerArgumentList = 'x'; FinalizerMethod = 'ProcessPool.TestMethods.Payloads::FailFinalizer'; FinalizerArgumentList = 'disk full' }
            $id = $pool.WorkerProcessIds[0]
            Remove-ProcessPool $pool -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings.Count | Should -Be 1
            $warnings[0].Message | Should -Match "\(pid $id\).*finalizer refused: disk full"
        }

        It 'fails with PoolMethodSetupMissing for -AssemblyPath without an initializer or finalizer' {
            { New-ProcessPool -Size 1 -AssemblyPath $methods } | Should -Throw -ErrorId 'PoolMethodSetupMissing,ProcessPool.Commands.NewProcessPoolCommand'
        }
    }

    Context 'AssemblyPath, InitializerMethod and InitializerArgumentList' {
        It 'calls the initializer method once in every worker with the arguments' {
            $pool = New-Tracked @{ Size = 1; AssemblyPath = $methods; InitializerMethod = 'ProcessPool.TestMethods.Payloads::Init'; InitializerArgumentList = 'marker-42' }
            1 | Invoke-PoolMap -Pool $pool -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Initialized' | Should -Be 'marker-42'
        }

        It 'resolves a relative assembly path against the current location' {
            Push-Location (Split-Path $methods)
            try { $pool = New-Tracked @{ Size = 1; AssemblyPath = "./$(Split-Path $methods -Leaf)"; InitializerMethod = 'ProcessPool.TestMethods.Payloads::Init'; InitializerArgumentList = 'relative' } }
            finally { Pop-Location }
            1 | Invoke-PoolMap -Pool $pool -AssemblyPath $methods -Method 'ProcessPool.TestMethods.Payloads::Initialized' | Should -Be 'relative'
        }

        It 'fails with PoolBroken when the initializer throws' {
            { New-ProcessPool -Size 1 -AssemblyPath $methods -InitializerMethod 'ProcessPool.TestMethods.Payloads::FailInit' -InitializerArgumentList 'no' } |
                Should -Throw -ErrorId 'PoolBroken,ProcessPool.Commands.NewProcessPoolCommand'
        }

        It 'fails with PoolMapDefinitionFailed when the assembly does not exist' {
            { New-ProcessPool -Size 1 -AssemblyPath (Join-Path $TestDrive 'none.dll') -InitializerMethod 'A.B::C' } |
                Should -Throw -ErrorId 'PoolMapDefinitionFailed,ProcessPool.Commands.NewProcessPoolCommand'
        }
    }
}
