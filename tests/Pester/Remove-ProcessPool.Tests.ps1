BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-ProcessPoolModule
}

Describe 'Remove-ProcessPool' {
    Context 'Pool' {
        It 'shuts the pool down, unregisters it and leaves no worker' {
            $pool = New-TestPool -Size 2
            Wait-Until { $pool.Idle -eq 2 } | Should -BeTrue
            $ids = $pool.GetAllStartedProcessIds()
            Remove-ProcessPool -Pool $pool
            $pool.State | Should -Be 'Closed'
            Get-ProcessPool -Name $pool.Name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            Wait-ProcessGone $ids | Should -BeNullOrEmpty
        }

        It 'takes pools from the pipeline' {
            $pool = New-TestPool -Size 1
            $ids = $pool.GetAllStartedProcessIds()
            Get-ProcessPool -Name $pool.Name | Remove-ProcessPool
            Wait-ProcessGone $ids | Should -BeNullOrEmpty
        }

        It 'lets running work finish without -Force' {
            $pool = New-TestPool -Size 1
            $job = 1..3 | Invoke-PoolMap -Pool $pool -AsJob { Start-Sleep -Milliseconds 300; $_ }
            try {
                Remove-ProcessPool -Pool $pool
                $null = Wait-Job $job -Timeout 30
                $job.State | Should -Be 'Completed'
                Receive-Job $job | Should -Be 1, 2, 3
            }
            finally { Remove-Job $job -Force }
        }

        It 'ends the processes items started, those left running in the background included' -Skip:$IsWindows {
            $pool = New-TestPool -Size 1
            $sleepers = @()
            try {
                $sleepers = Get-ProcessIdentity (1 | Invoke-PoolMap -Pool $pool -ArgumentList $SpawnSleepers { param($spawn) & ([scriptblock]::Create($spawn)) })
                $sleepers.Count | Should -Be 2
                Remove-ProcessPool -Pool $pool
                Wait-ProcessEnded $sleepers | Should -BeNullOrEmpty
            }
            finally {
                Stop-TestProcess $sleepers
                Remove-TestPool $pool
            }
        }

        It 'completes pool names on tab for its positional parameter' {
            $pool = New-TestPool -Size 1
            try {
                $line = "Remove-ProcessPool $($pool.Name.Substring(0, 9))"
                $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
                $completion.CompletionMatches.CompletionText | Should -Contain $pool.Name
                $completion.CompletionMatches.ResultType | Should -Not -Contain 'ProviderItem'
            }
            finally { Remove-TestPool $pool }
        }

        It 'writes PoolNotFound for a name that matches no pool' {
            { Remove-ProcessPool -Pool 'no-such-pool' -ErrorAction Stop } | Should -Throw -ErrorId 'PoolNotFound,ProcessPool.Commands.RemoveProcessPoolCommand'
        }
    }

    Context 'Name' {
        It 'removes the pools matching the names and wildcards' {
            $tag = [guid]::NewGuid().ToString('N').Substring(0, 6)
            $a = New-ProcessPool -Size 1 -Name "rm-a-$tag"
            $b = New-ProcessPool -Size 1 -Name "rm-b-$tag"
            $ids = $a.GetAllStartedProcessIds() + $b.GetAllStartedProcessIds()
            Remove-ProcessPool -Name "rm-*-$tag"
            Get-ProcessPool -Name "rm-*-$tag" | Should -BeNullOrEmpty
            Wait-ProcessGone $ids | Should -BeNullOrEmpty
        }

        It 'takes names from the pipeline by property name' {
            $pool = New-TestPool -Size 1
            $ids = $pool.GetAllStartedProcessIds()
            [pscustomobject]@{ Name = $pool.Name } | Remove-ProcessPool
            Get-ProcessPool -Name $pool.Name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            Wait-ProcessGone $ids | Should -BeNullOrEmpty
        }

        It 'writes PoolNotFound for a name without wildcards that matches nothing' {
            { Remove-ProcessPool -Name 'no-such-pool' -ErrorAction Stop } | Should -Throw -ErrorId 'PoolNotFound,ProcessPool.Commands.RemoveProcessPoolCommand'
        }
    }

    Context 'Force' {
        It 'kills running work at once and leaves no worker' {
            $pool = New-TestPool -Size 2
            $job = 1..10 | Invoke-PoolMap -Pool $pool -ChunkSize 1 -AsJob { Start-Sleep 60 }
            try {
                Wait-Until { $pool.Busy -eq 2 } | Should -BeTrue
                $ids = $pool.GetAllStartedProcessIds()
                $clock = [Diagnostics.Stopwatch]::StartNew()
                Remove-ProcessPool -Pool $pool -Force
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 30 # the items take 60 s
                Wait-ProcessGone $ids | Should -BeNullOrEmpty
                $null = Wait-Job $job -Timeout 30
                $job.State | Should -Be 'Failed'
                $job.Error[0].FullyQualifiedErrorId | Should -BeLike 'PoolClosed*'
            }
            finally { Remove-Job $job -Force }
        }

        It 'ends the processes a running item started, those re-parented to init included' -Skip:$IsWindows {
            $pool = New-TestPool -Size 1
            $file = Join-Path $TestDrive 'force-sleepers.txt'
            $sleepers = @()
            $job = 1 | Invoke-PoolMap -Pool $pool -AsJob -ArgumentList $SpawnSleepers {
                param($spawn)
                Set-Content -LiteralPath $using:file -Value (& ([scriptblock]::Create($spawn)))
                Start-Sleep 60
            }
            try {
                Wait-Until { (Test-Path $file) -and @(Get-Content $file).Count -eq 2 } | Should -BeTrue
                $sleepers = Get-ProcessIdentity (Get-Content $file)
                Remove-ProcessPool -Pool $pool -Force
                Wait-ProcessEnded $sleepers | Should -BeNullOrEmpty
            }
            finally {
                Stop-TestProcess $sleepers
                Remove-Job $job -Force
                Remove-TestPool $pool
            }
        }
    }

    Context 'WhatIf' {
        It 'removes nothing with -WhatIf' {
            $pool = New-TestPool -Size 1
            try {
                Remove-ProcessPool -Pool $pool -WhatIf
                $pool.State | Should -Be 'Running'
                (Get-ProcessPool -Name $pool.Name).Name | Should -Be $pool.Name
            }
            finally { Remove-TestPool $pool }
        }
    }

    Context 'Remove-Module' {
        It 'shuts every pool down when the module is removed' {
            $child = {
                param($module)
                Import-Module $module
                $pool = New-ProcessPool -Size 1
                $null = 1 | Invoke-PoolMap { $_ }
                $ids = @($pool.GetAllStartedProcessIds()) + @((Get-ProcessPool -Name Default).GetAllStartedProcessIds())
                Remove-Module ProcessPool
                $ids -join ','
            }
            # In a child process, so the pools of this test run stay up.
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("& { $child } '$((Get-Module ProcessPool).Path)'"))
            $ids = (Invoke-PowerShell '-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded | Select-Object -Last 1) -split ',' | ForEach-Object { [int]$_ }
            $ids.Count | Should -BeGreaterOrEqual 2
            Wait-ProcessGone $ids | Should -BeNullOrEmpty
        }
    }
}
